/**
 * Loading a stored Recipe back into the form (pure): re-run from history, or a relaunch button
 * ('regenerate' = the same seed; 'variations' = new seeds). The store then runs it at once (store.rerunAsync).
 */
import type { Mode, Recipe } from '../../protocol/messages';
import { normalizeSeed } from './seed-policy';
import { CONTROL_TYPES, type ControlType, type ModelParams, type Settings } from './settings';

export type RecipeAction = 'rerun' | 'regenerate' | 'variations';

export function settingsFromRecipe(settings: Settings, recipe: Recipe, action: RecipeAction): { settings: Settings; mode: Mode } {
  const params: { -readonly [K in keyof ModelParams]: ModelParams[K] } = {
    ...(settings.paramsByModel[recipe.modelId] ?? {}),
    steps: recipe.steps,
    guidance: recipe.guidance,
  };
  if (recipe.strength !== undefined) params.strength = recipe.strength;
  if (recipe.controlScale !== undefined) params.controlScale = recipe.controlScale;
  const controlType = CONTROL_TYPES.includes(recipe.controlType as ControlType) ? (recipe.controlType as ControlType) : settings.controlType;
  return {
    mode: recipe.mode,
    settings: {
      ...settings,
      // The recipe's prompt already includes the style preset that was active.
      prompt: recipe.prompt,
      negativePrompt: recipe.negativePrompt,
      presetId: 'none',
      // The run itself uses the recipe's seed (or new ones for variations); the user's seed policy and image count
      // stay as they were, so nothing switches silently.
      seed: normalizeSeed(action === 'variations' ? settings.seed : recipe.seed),
      size: recipe.mode === 'generate' ? { width: recipe.width, height: recipe.height } : settings.size,
      maskFeather: recipe.maskFeather ?? settings.maskFeather,
      controlType,
      modelByMode: { ...settings.modelByMode, [recipe.mode]: recipe.modelId },
      // A full-resolution result re-runs at full resolution (and a plain one plainly).
      fullResolution: recipe.mode === 'generate' || recipe.mode === 'edit' ? recipe.fullResolution !== undefined : settings.fullResolution,
      // The engine that made it (a server recipe runs on the server again; its model is listed only there).
      engine: recipe.engine && recipe.engine !== 'local' ? 'server' : 'local',
      paramsByModel: { ...settings.paramsByModel, [recipe.modelId]: params },
    },
  };
}
