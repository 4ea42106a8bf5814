/**
 * A model from a folder on the user's disk (inline mode, where nothing can be stored): the user picks the folder with
 * `<input type=file webkitdirectory>` or `showDirectoryPicker()`, and its files are matched to the manifest's files by
 * relative path (e.g. "unet/model.onnx") and size.
 */
import { AppError } from '../../../protocol/errors';
import { checkStorePath, type ModelStore } from './model-store';

/** One picked file and its path relative to the picked folder ("sd-turbo/unet/model.onnx" or "unet/model.onnx"). */
export interface PickedFile {
  readonly path: string;
  readonly file: Blob;
}

/** File objects from `<input webkitdirectory>` carry `webkitRelativePath`; plain picks only a name. */
export function pickedFromFileList(files: readonly File[]): PickedFile[] {
  return files.map((f) => ({ path: f.webkitRelativePath || f.name, file: f }));
}

/** Walks a directory handle from `showDirectoryPicker()`. */
export async function pickedFromDirectoryAsync(dir: FileSystemDirectoryHandle, prefix = ''): Promise<PickedFile[]> {
  const out: PickedFile[] = [];
  const entries = (dir as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries();
  for await (const [name, handle] of entries) {
    const path = prefix ? `${prefix}/${name}` : name;
    if (handle.kind === 'directory') out.push(...(await pickedFromDirectoryAsync(handle as FileSystemDirectoryHandle, path)));
    else out.push({ path, file: await (handle as FileSystemFileHandle).getFile() });
  }
  return out;
}

export interface WantedFile {
  /** Manifest path, e.g. "unet/model.onnx". */
  readonly path: string;
  readonly bytes: number;
  /** Kept for callers; sizes are always compared exactly now. */
  readonly exactBytes?: boolean;
}

/**
 * Maps picked files to the wanted manifest paths. A picked path matches when it equals the wanted path or ends with
 * "/" + it (so picking the model folder itself or its parent both work). Throws AppError INVALID_INPUT listing every
 * missing file and every size mismatch.
 */
export function matchPickedFiles(wanted: readonly WantedFile[], picked: readonly PickedFile[]): Map<string, Blob> {
  const norm = (p: string): string => p.replace(/\\/g, '/').replace(/^\/+/, '');
  const out = new Map<string, Blob>();
  const problems: string[] = [];
  for (const w of wanted) {
    const hits = picked.filter((p) => { const q = norm(p.path); return q === w.path || q.endsWith(`/${w.path}`); });
    // Prefer the shortest match (the least nested) when a folder holds copies.
    hits.sort((a, b) => a.path.length - b.path.length);
    const hit = hits[0];
    if (!hit) { problems.push(`"${w.path}" is missing`); continue; }
    // Sizes are exact (no tolerance): a file of another size is another file.
    if (hit.file.size !== w.bytes) { problems.push(`"${w.path}" has ${hit.file.size} bytes, expected ${w.bytes}`); continue; }
    out.set(w.path, hit.file);
  }
  if (problems.length > 0) {
    throw new AppError('INVALID_INPUT', `The picked folder does not hold this model: ${problems.join('; ')}.`, {
      hint: 'Pick the folder that contains the model\'s files (for example the one with "unet/model.onnx").',
    });
  }
  return out;
}

/** A read-only ModelStore over matched files (keys are store paths). */
export function createFolderStore(files: ReadonlyMap<string, Blob>): ModelStore {
  const readOnly = async (): Promise<never> => { throw new AppError('STORAGE_UNAVAILABLE', 'A picked folder is read-only.'); };
  return {
    kind: 'folder',
    persistent: false,
    reason: 'Files are read from the folder you picked; pick it again next time the plugin opens.',
    async listAsync(prefix = '') { return [...files].filter(([p]) => p.startsWith(prefix)).map(([path, b]) => ({ path, bytes: b.size })); },
    async getAsync(path) { checkStorePath(path); return files.get(path) ?? null; },
    putAsync: readOnly,
    openAppendAsync: readOnly,
    moveAsync: readOnly,
    deleteAsync: readOnly,
    async usageAsync() { return { usedBytes: [...files.values()].reduce((s, b) => s + b.size, 0) }; },
  };
}
