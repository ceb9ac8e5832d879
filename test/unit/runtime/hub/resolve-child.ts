// A Hub download in a process of its own, for tests of what two processes (or another user) do to one cache: run with
// `node --import tsx resolve-child.ts '<json>'` where the JSON gives model, endpoint and cacheDir (and `wait`: start
// only when a line arrives on stdin). It prints JSON lines: {ready}, {progress}, {warning}, then {done: dir} or
// {error: message, lens: true when it was a LensError}.
import { resolveHubModel } from '../../../../runtime/hub/download';
import { isLensError } from '../../../../runtime/errors';

const args = JSON.parse(process.argv[2]) as { model: string; endpoint: string; cacheDir: string; wait?: boolean };
const say = (o: unknown) => process.stdout.write(JSON.stringify(o) + '\n');

async function main(): Promise<void> {
  say({ ready: process.pid });
  if (args.wait) await new Promise((resolve) => process.stdin.once('data', resolve));
  process.stdin.pause();
  try {
    const dir = await resolveHubModel(args.model, {
      endpoint: args.endpoint,
      cacheDir: args.cacheDir,
      token: null,
      env: {},
      onWarning: (line) => say({ warning: line }),
      onProgress: (p) => say({ progress: p }),
    });
    say({ done: dir });
  } catch (e) {
    say({ error: e instanceof Error ? e.message : String(e), lens: isLensError(e), stack: (e as Error).stack });
  }
}

void main();
