// `npm start`: the newcomer's first minute. Starts the built-in demo origin on a loopback port,
// serves vcl-examples/default.vcl in front of it on 127.0.0.1:6081 (its backend pointed at the
// demo origin), and says how to see the cache at work.

import { fileURLToPath } from 'node:url';
import { startDemoOrigin } from './demo-origin.ts';
import { untilSignal } from './serve.ts';
import { startFromConfig } from './serve-child.ts';
import { parseServeArgs } from './serve-args.ts';

export const START_USAGE = 'usage: shellac start [-a host:port]';

export async function runStart(argv: readonly string[]): Promise<number> {
  const vcl = fileURLToPath(new URL('../../vcl-examples/default.vcl', import.meta.url));
  const config = parseServeArgs(['-f', vcl, ...(argv.length > 0 ? argv : ['-a', '127.0.0.1:6081'])]);
  const origin = await startDemoOrigin({ port: 0 });
  let srv: Awaited<ReturnType<typeof startFromConfig>>;
  try {
    srv = await startFromConfig(config, { backendOverride: { host: '127.0.0.1', port: origin.port } });
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    await origin.close();
    return 1;
  }
  const [a] = await srv.listen(config.listen);
  const url = `http://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
  process.stdout.write(
    [
      `Shellac is serving vcl-examples/default.vcl on ${url}`,
      `in front of the demo origin at ${origin.url}.`,
      '',
      'Try it (run each twice; the second answer comes from the cache: Age grows, X-Cache says HIT):',
      `  curl -si ${url}/ | grep -Ei '^(age|x-cache|x-varnish)'`,
      `  curl -si ${url}/slow | grep -Ei '^(age|x-cache)'      # 2 s from the origin, instant from the cache`,
      `  curl -si ${url}/api/time | grep -Ei '^(age|x-cache)'  # never cached`,
      '',
      'Ctrl-C stops it.',
      '',
    ].join('\n'),
  );
  await untilSignal();
  await srv.close(2000);
  await origin.close();
  return 0;
}
