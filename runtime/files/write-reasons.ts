// Why a file could not be written, in words: one table for every writer (the CLI's --out, the extension's exports),
// keyed by Node's errno codes and VS Code's FileSystemError codes, so every surface gives the same short reason.

export const WRITE_REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'the folder does not exist',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EFBIG: 'the file is too large for this file system',
  EISDIR: 'it is a folder',
  ENOTDIR: 'a part of the path is not a folder',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'it is a loop of symbolic links',
  EBUSY: 'the file is busy',
  EXDEV: 'the temporary file and the target are on different file systems',
  // VS Code's FileSystemError codes (workspace.fs, remote file systems).
  FileNotFound: 'the folder does not exist',
  NoPermissions: 'permission denied',
  FileIsADirectory: 'it is a folder',
  FileNotADirectory: 'a part of the path is not a folder',
  Unavailable: 'the file system is unavailable',
};

/** The error's code (errno or FileSystemError code), or ''. */
export function errorCode(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

/** "reason (CODE)" for a known code, else the error's own first line. */
export function writeReason(e: unknown): string {
  const code = errorCode(e);
  const known = WRITE_REASONS[code];
  if (known) return `${known} (${code})`;
  const text = e instanceof Error ? e.message : String(e);
  return text.split('\n')[0] || 'unknown error';
}
