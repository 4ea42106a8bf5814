/// <reference path="../node_modules/@figma/plugin-typings/plugin-api.d.ts" />
/**
 * History: the results on the current page (nodes carrying pluginData 'recipe'), newest first, each with a
 * ≤ 128 px thumbnail. Reads only.
 */
import { recipe as recipeValidator, type HistoryEntry, type Recipe } from '../protocol/messages';
import { RECIPE_KEY } from './insert-result';

/** Most entries returned (the protocol allows 500). */
export const MAX_HISTORY = 100;
/** Thumbnails are exported for the newest this many entries only (each export costs main-thread time). */
export const MAX_THUMBNAILS = 60;
export const THUMBNAIL_SIDE = 128;

/** Parses a stored recipe; null when missing or invalid (an old or foreign value never breaks the list). */
export function readRecipe(node: BaseNode): Recipe | null {
  const raw = node.getPluginData(RECIPE_KEY);
  if (!raw) return null;
  try {
    return recipeValidator.validate(JSON.parse(raw));
  } catch {
    return null;
  }
}

function nodesWithRecipes(page: PageNode): SceneNode[] {
  // findAllWithCriteria with pluginData keys is the fast path in Figma; findAll is the fallback.
  try {
    if (typeof page.findAllWithCriteria === 'function') {
      return page.findAllWithCriteria({ pluginData: { keys: [RECIPE_KEY] } }) as SceneNode[];
    }
  } catch {
    // fall through
  }
  return page.findAll((n) => n.getPluginData(RECIPE_KEY) !== '');
}

async function thumbnailAsync(node: SceneNode): Promise<Uint8Array | undefined> {
  const b = node.absoluteBoundingBox;
  if (!b || b.width < 1 || b.height < 1) return undefined;
  const constraint = b.width >= b.height
    ? { type: 'WIDTH' as const, value: Math.min(THUMBNAIL_SIDE, Math.max(1, Math.round(b.width))) }
    : { type: 'HEIGHT' as const, value: Math.min(THUMBNAIL_SIDE, Math.max(1, Math.round(b.height))) };
  try {
    const png = await node.exportAsync({ format: 'PNG', constraint, colorProfile: 'SRGB' });
    return png.length >= 8 ? png : undefined;
  } catch {
    return undefined; // a thumbnail is optional: the entry still lists
  }
}

/** History entries of `page`, newest first (by recipe.createdAt), at most MAX_HISTORY. */
export async function listHistoryAsync(page: PageNode): Promise<HistoryEntry[]> {
  const found: { node: SceneNode; recipe: Recipe }[] = [];
  for (const node of nodesWithRecipes(page)) {
    const recipe = readRecipe(node);
    if (recipe) found.push({ node, recipe });
  }
  found.sort((a, b) => (a.recipe.createdAt < b.recipe.createdAt ? 1 : a.recipe.createdAt > b.recipe.createdAt ? -1 : 0));
  const entries: HistoryEntry[] = [];
  for (const [i, { node, recipe }] of found.slice(0, MAX_HISTORY).entries()) {
    const entry: HistoryEntry = { nodeId: node.id, name: node.name.slice(0, 1000), recipe };
    if (i < MAX_THUMBNAILS && node.visible) {
      const thumb = await thumbnailAsync(node);
      if (thumb) entry.thumbnail = thumb;
    }
    entries.push(entry);
  }
  return entries;
}
