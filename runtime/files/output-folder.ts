// An output that is a folder of files (`run --out FOLDER/`: one NPY per layer and a JSON sidecar), decided before any
// work like a single output (output-target.ts): the folder is an existing folder or a new one in an existing folder,
// never a file, never a model's own folder or inside the Hugging Face cache, and it must accept new files (a probe
// is created and removed). Each file inside is then planned and written on its own through the atomic writer
// (output-file.ts) into a temporary file, and a writer that must put its files in place together (npy-folder.ts)
// renames them only when every one is complete; the folder is created only when writing begins.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LensError } from '../errors';
import { expandHome } from '../hub/hub-settings';
import { cannotWrite, planOutput, type OutputPlan, type ProtectedPath } from './output-target';
import { errorCode, writeReason } from './write-reasons';

export interface FolderPlan {
  /** The path as the user gave it. */
  given: string;
  /** The folder (symbolic links resolved when it exists). */
  folder: string;
  /** It does not exist yet: created by ensureFolder. */
  create: boolean;
  label: string;
  protect: readonly ProtectedPath[];
}

/** Whether `given` names a folder output: it ends with a path separator, or it is an existing folder. */
export function isFolderOutput(given: string): boolean {
  if (/[\\/]$/.test(given)) return true;
  try {
    return fs.statSync(path.resolve(expandHome(given))).isDirectory();
  } catch {
    return false;
  }
}

/** Refuses a folder that holds the model's files, or lies inside a protected folder (the Hugging Face cache). */
function checkFolder(label: string, given: string, real: string, protect: readonly ProtectedPath[]): void {
  for (const p of protect) {
    let pReal: string;
    try {
      pReal = fs.realpathSync(p.path);
    } catch {
      continue;
    }
    if (p.folder) {
      if (real === pReal || real.startsWith(pReal + path.sep))
        throw cannotWrite(label, given, `it is inside ${p.role} (${p.path}), which outputs never go into`);
    } else if (path.dirname(pReal) === real)
      throw cannotWrite(
        label,
        given,
        `it is the folder of ${p.role} (${p.path}); write the files into a folder of their own`,
      );
  }
}

/** Plans writing into the folder `given`. Throws one-line LensErrors (BAD_INPUT); writes nothing but a probe. */
export function planOutputFolder(given: string, protect: readonly ProtectedPath[] = [], label = '--out'): FolderPlan {
  if (given.trim() === '') throw new LensError('BAD_INPUT', `${label || 'The output'} is empty; give a folder.`);
  const full = path.resolve(expandHome(given));
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(full);
  } catch (e) {
    if (errorCode(e) !== 'ENOENT') throw cannotWrite(label, given, writeReason(e));
  }
  if (st && !st.isDirectory())
    throw cannotWrite(
      label,
      given,
      `it is ${st.isFile() ? 'a file' : 'not a folder'}, and a path ending in / names a folder; give a folder (new or existing) or a file name without the /`,
    );
  let folder = full;
  if (st) folder = fs.realpathSync(full);
  else {
    const parent = path.dirname(full);
    let pst: fs.Stats | undefined;
    try {
      pst = fs.statSync(parent);
    } catch {
      pst = undefined;
    }
    if (!pst) throw cannotWrite(label, given, `the folder ${parent} does not exist (ENOENT); create it first`);
    if (!pst.isDirectory()) throw cannotWrite(label, given, `${parent} is not a folder (ENOTDIR)`);
    folder = path.join(fs.realpathSync(parent), path.basename(full));
  }
  checkFolder(label, given, folder, protect);
  // Proves that files can be created there: in the folder itself, or in its parent for a new one.
  const dir = st ? folder : path.dirname(folder);
  const probe = path.join(dir, `.attention-lens-probe-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
  try {
    fs.closeSync(fs.openSync(probe, 'wx'));
  } catch (e) {
    throw cannotWrite(label, given, writeReason(e));
  }
  fs.unlinkSync(probe); // our own probe, created just above
  return { given, folder, create: !st, label, protect };
}

/** Creates the planned folder if it is new (once writing begins); true when this call created it. */
export function ensureFolder(plan: FolderPlan): boolean {
  if (!plan.create) return false;
  try {
    fs.mkdirSync(plan.folder);
    return true;
  } catch (e) {
    if (errorCode(e) !== 'EEXIST') throw cannotWrite(plan.label, plan.given, writeReason(e));
    return false;
  }
}

/** Removes a folder that ensureFolder created, if it is still empty (a run that failed before its files were put
 *  in place); a folder holding anything is left as it is. */
export function removeFolderIfEmpty(plan: FolderPlan): void {
  try {
    fs.rmdirSync(plan.folder); // only ever succeeds on an empty folder
  } catch {
    // not empty, or already gone: nothing to do
  }
}

/** Plans one file of the folder (the same rules as any output: never a protected file, a folder or a device). */
export function planFolderFile(plan: FolderPlan, name: string): OutputPlan {
  return planOutput(path.join(plan.folder, name), plan.protect, plan.label);
}
