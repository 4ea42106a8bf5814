import { expect, it } from 'vitest';
import fs from 'node:fs';
import { createScheduler } from '../../ui/core/schedulers';
const cases = JSON.parse(fs.readFileSync('/tmp/cm/ref.json', 'utf8'));
it('xcheck', () => {
  const bad: string[] = [];
  for (const c of cases) {
    const cls = c.kind === 'euler' ? 'EulerDiscreteScheduler' : c.kind === 'ddim' ? 'DDIMScheduler' : 'LCMScheduler';
    const s = createScheduler({ ...c.config, _class_name: cls }, c.n);
    const tag = `${c.kind} N=${c.config.num_train_timesteps} ${c.config.timestep_spacing} off=${c.config.steps_offset} k=${c.config.use_karras_sigmas} n=${c.n}`;
    if (JSON.stringify(s.timesteps) !== JSON.stringify(c.timesteps)) { bad.push(`${tag} ts ${s.timesteps.slice(0,6)} vs ${c.timesteps.slice(0,6)}`); continue; }
    if (c.sigmas) {
      const d = Math.max(...c.sigmas.map((v: number, i: number) => Math.abs(v - s.sigmas![i]!) / Math.max(v, 1e-6)));
      if (d > 0) bad.push(`${tag} sigma rel ${d}`);
      if (s.initNoiseSigma !== c.init) bad.push(`${tag} init ${s.initNoiseSigma} vs ${c.init}`);
    }
  }
  const cat: Record<string, number> = {}; for (const b of bad) { const k = b.split(" n=")[0]! + (b.includes(" ts ") ? " ts" : b.includes("init") ? " init" : " sig"); cat[k] = (cat[k] ?? 0) + 1; } console.log(bad.length, cat, bad.filter((b) => !b.includes("k=true") && !b.startsWith("ddim N=1000 linspace")).slice(0, 30).join("\n"));
  expect(bad.length).toBe(0);
});
