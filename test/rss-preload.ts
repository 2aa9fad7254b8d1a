// Preloaded (node -r) into CLI runs whose peak memory a test bounds: prints the peak resident set at exit.
import { writeSync } from 'node:fs';

process.on('exit', () => {
  writeSync(2, `\nmax-rss-kb ${process.resourceUsage().maxRSS}\n`);
});
