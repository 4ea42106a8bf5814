import { describe, expect, it } from 'vitest';
import { AppError } from '../../protocol/errors';
import type { ModelRole, ModelSession } from '../../ui/core/session';
import { float32 } from '../../ui/core/tensor';
import { createSessionManager, type MemoryPolicy, type SessionEvent } from '../../ui/runtime/session-manager';

interface Fake {
  readonly events: string[];
  readonly created: ModelRole[];
  active: number;
  maxActive: number;
  failNextRunWith?: AppError;
}

function fakeSource(policy: MemoryPolicy, fake: Fake, runMs = 5) {
  const log = (e: SessionEvent) => { if (e.type === 'create' || e.type === 'release') fake.events.push(`${e.type} ${e.role}`); };
  return createSessionManager({
    policy,
    onEvent: log,
    createSessionAsync: async (role): Promise<ModelSession> => {
      fake.created.push(role);
      fake.active++;
      fake.maxActive = Math.max(fake.maxActive, fake.active);
      await new Promise((r) => setTimeout(r, 2));
      fake.active--;
      return {
        inputNames: ['x'], outputNames: ['y'],
        async runAsync() {
          fake.active++;
          fake.maxActive = Math.max(fake.maxActive, fake.active);
          await new Promise((r) => setTimeout(r, runMs));
          fake.active--;
          if (fake.failNextRunWith) { const e = fake.failNextRunWith; delete fake.failNextRunWith; throw e; }
          return { y: float32([1], Float32Array.of(1)) };
        },
        async releaseAsync() {},
      };
    },
  });
}

/** What a txt2img pipeline does with its sessions. */
async function txt2imgStagesAsync(src: ReturnType<typeof fakeSource>): Promise<void> {
  for (const role of ['text_encoder', 'unet', 'vae_decoder'] as const) {
    const s = await src.acquireAsync(role);
    await s.runAsync({ x: float32([1]) });
    await src.doneWithAsync(role);
  }
}

const newFake = (): Fake => ({ events: [], created: [], active: 0, maxActive: 0 });

describe('session manager', () => {
  it('"low-memory" releases the text encoder before the UNet loads and the UNet before the VAE', async () => {
    const fake = newFake();
    const src = fakeSource('low-memory', fake);
    await txt2imgStagesAsync(src);
    expect(fake.events).toEqual([
      'create text_encoder', 'release text_encoder', 'create unet', 'release unet', 'create vae_decoder', 'release vae_decoder',
    ]);
    expect(src.liveRoles()).toEqual([]);
  });

  it('"fast" keeps every session warm across stages and generations', async () => {
    const fake = newFake();
    const src = fakeSource('fast', fake);
    await txt2imgStagesAsync(src);
    await txt2imgStagesAsync(src);
    expect(fake.events).toEqual(['create text_encoder', 'create unet', 'create vae_decoder']);
    expect(src.liveRoles()).toEqual(['text_encoder', 'unet', 'vae_decoder']);
    await src.releaseAllAsync();
    expect(fake.events.slice(3)).toEqual(['release text_encoder', 'release unet', 'release vae_decoder']);
  });

  it('"low-memory" never releases a session in use (ControlNet held while the UNet runs)', async () => {
    const fake = newFake();
    const src = fakeSource('low-memory', fake);
    const cn = await src.acquireAsync('controlnet');
    const unet = await src.acquireAsync('unet');
    await cn.runAsync({ x: float32([1]) });
    await unet.runAsync({ x: float32([1]) });
    expect(fake.events).toEqual(['create controlnet', 'create unet']);
    await src.doneWithAsync('unet');
    await src.doneWithAsync('controlnet');
    expect(fake.events).toEqual(['create controlnet', 'create unet', 'release unet', 'release controlnet']);
  });

  it('runs and creations go through one serial chain: never two at once, in call order', async () => {
    const fake = newFake();
    const src = fakeSource('fast', fake, 10);
    const [a, b] = await Promise.all([src.acquireAsync('unet'), src.acquireAsync('controlnet')]);
    const order: number[] = [];
    await Promise.all([0, 1, 2, 3, 4, 5].map((i) => (i % 2 ? a : b).runAsync({ x: float32([1]) }).then(() => order.push(i))));
    expect(fake.maxActive).toBe(1);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('a failing run does not block the chain', async () => {
    const fake = newFake();
    const src = fakeSource('fast', fake);
    const s = await src.acquireAsync('unet');
    fake.failNextRunWith = new AppError('INTERNAL', 'boom');
    await expect(s.runAsync({ x: float32([1]) })).rejects.toMatchObject({ message: 'boom' });
    await expect(s.runAsync({ x: float32([1]) })).resolves.toHaveProperty('y');
  });

  it('DEVICE_LOST mid-run drops every session; the next acquire creates fresh ones and runs', async () => {
    const fake = newFake();
    let lost = 0;
    const src = createSessionManager({
      policy: 'fast',
      onDeviceLost: () => lost++,
      createSessionAsync: async (role) => {
        fake.created.push(role);
        return {
          inputNames: ['x'], outputNames: ['y'],
          async runAsync() {
            if (fake.failNextRunWith) { const e = fake.failNextRunWith; delete fake.failNextRunWith; throw e; }
            return { y: float32([1], Float32Array.of(2)) };
          },
          async releaseAsync() { fake.events.push(`release ${role}`); },
        };
      },
    });
    await src.acquireAsync('text_encoder');
    const unet = await src.acquireAsync('unet');
    fake.failNextRunWith = new AppError('DEVICE_LOST', 'The GPU stopped responding.');
    await expect(unet.runAsync({ x: float32([1]) })).rejects.toMatchObject({ code: 'DEVICE_LOST' });
    expect(lost).toBe(1);
    expect(src.liveRoles()).toEqual([]);
    expect(fake.events).toEqual(['release text_encoder', 'release unet']);
    // The old handle is dead; a new acquire recreates the session.
    await expect(unet.runAsync({ x: float32([1]) })).rejects.toMatchObject({ code: 'INTERNAL' });
    const again = await src.acquireAsync('unet');
    await expect(again.runAsync({ x: float32([1]) })).resolves.toHaveProperty('y');
    expect(fake.created).toEqual(['text_encoder', 'unet', 'unet']);
  });
});
