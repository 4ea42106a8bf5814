/**
 * Boost (super-resolution) glue for the app, pure: the hint line, the size request the plugin ignores for Boost but
 * the protocol requires, and the placement of a result that has `scale`× the source's pixels.
 */
import { boostSizes } from '../../protocol/boost-size';
import type { Placement, SelectionInfo, WorkingSizeRequest } from '../../protocol/messages';

/** Boost reads the source at 1× (see protocol/boost-size.ts); this only satisfies prepare-job's schema. */
export const BOOST_SIZE_REQUEST: WorkingSizeRequest = { maxSide: 4096, multiple: 8, targetArea: 512 * 512 };

export function boostHintLine(selection: SelectionInfo | null, scale: number): string {
  if (!selection) return 'Reading the selection…';
  const first = selection.nodes[0];
  if (!first || !selection.availableModes.includes('boost')) return `${selection.hint} — select an image or frame to boost`;
  const { result } = boostSizes(first.width, first.height, scale);
  return `${selection.hint} → ×${scale}: ${result.width}×${result.height} px`;
}

/** The job's placement maps working px; a Boost result has `scale`× as many, so its content box scales with it. */
export function scalePlacement(p: Placement, scale: number): Placement {
  const c = p.content;
  return { ...p, content: { x: c.x * scale, y: c.y * scale, width: c.width * scale, height: c.height * scale } };
}
