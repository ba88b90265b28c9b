import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { startHarness } from './server.ts';

// The harness as a process of its own, for specs that must kill the app's main process
// (kill -9) and start it again. It prints one JSON line with its addresses, then takes
// commands on stdin: `pick <json array of paths>` sets what the next file dialog returns.

const { values } = parseArgs({ options: { 'data-dir': { type: 'string' } } });
const dataDir = values['data-dir'];
if (dataDir === undefined) {
  process.stderr.write('usage: node e2e/harness/serve.ts --data-dir DIR\n');
  process.exit(2);
}
const harness = await startHarness({ dataDir });
process.stdout.write(`${JSON.stringify({ url: harness.url, token: harness.token, pid: process.pid })}\n`);

createInterface({ input: process.stdin }).on('line', (line) => {
  const [command, ...rest] = line.split(' ');
  if (command === 'pick') harness.setNextPick(JSON.parse(rest.join(' ')) as string[]);
});
process.on('SIGTERM', () => void harness.close().finally(() => process.exit(0)));
