// Reads a byte range of an open file completely: fs.readSync may return fewer bytes than asked (and reads at most
// 2 GiB a call), and 0 bytes means the file ends before the range does. Shared by the weight readers (safetensors,
// PyTorch checkpoints, GGUF), each with its own message for a cut file.
import * as fs from 'node:fs';

/** Fills `target` from `position` of `fd`; `truncated(at)` is the error thrown when the file ends at byte `at`. */
export function readFully(fd: number, target: Uint8Array, position: number, truncated: (at: number) => Error): void {
  let done = 0;
  while (done < target.length) {
    const got = fs.readSync(fd, target, done, Math.min(target.length - done, 1 << 30), position + done);
    if (got === 0) throw truncated(position + done);
    done += got;
  }
}
