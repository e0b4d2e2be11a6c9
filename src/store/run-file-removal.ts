// Removing a run's files from disk, only inside the workspace directory. Paths come from
// stored records that a client may have written (createExperiment), so each one is
// resolved through symlinks and refused unless it lies strictly inside the workspace.
import { realpath, rm } from 'node:fs/promises';
import path from 'node:path';

export interface FileRemovalReport {
  deleted: string[];
  skipped: { path: string; reason: string }[];
}

/** True when `candidate` (already resolved) is inside `root` and is not `root` itself. */
export function isStrictlyInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}

/**
 * Removes each path (file or directory, recursively) when it resolves to a place strictly
 * inside `workspaceDir`. Relative paths are taken relative to the workspace.
 */
export async function removeRunFiles(workspaceDir: string, paths: readonly string[]): Promise<FileRemovalReport> {
  const report: FileRemovalReport = { deleted: [], skipped: [] };
  let root: string;
  try {
    root = await realpath(workspaceDir);
  } catch {
    for (const p of paths) report.skipped.push({ path: p, reason: `workspace ${workspaceDir} does not exist` });
    return report;
  }
  // Parents first, so a directory removal makes its listed children "already removed".
  const ordered = [...new Set(paths)].sort((a, b) => a.length - b.length);
  for (const original of ordered) {
    const absolute = path.resolve(root, original);
    let resolved: string;
    try {
      resolved = await realpath(absolute);
    } catch {
      const removedWithParent = report.deleted.some((d) => isStrictlyInside(d, absolute));
      if (!removedWithParent) report.skipped.push({ path: original, reason: 'not found on disk' });
      continue;
    }
    if (!isStrictlyInside(root, resolved)) {
      report.skipped.push({ path: original, reason: `outside the workspace ${root}; left in place` });
      continue;
    }
    await rm(resolved, { recursive: true, force: true });
    report.deleted.push(resolved);
  }
  return report;
}
