// Runs Lighthouse on a list of jobs with one Chromium, sequentially, writing each report.
//
//   CHROME_PATH=/usr/bin/chromium node bench/lighthouse.mjs jobs.json
//
// jobs.json: [{"url": "...", "preset": "mobile" | "desktop", "output": "report.json"}, ...]
// Each job is what `lighthouse URL [--preset=desktop] --chrome-flags="..."` does, without
// starting Node and Chromium again for every page. Prints one line per finished job.

import { readFile, writeFile } from "node:fs/promises";
import * as chromeLauncher from "chrome-launcher";
import lighthouse from "lighthouse";
import desktopConfig from "lighthouse/core/config/desktop-config.js";

export const CHROME_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const jobs = JSON.parse(await readFile(process.argv[2], "utf8"));
let chrome = null;

// Lighthouse sometimes loses the trace of a page load (NO_NAVSTART, worse on a busy machine);
// such a run has no performance score, so it is retried with a fresh Chromium.
const ATTEMPTS = 3;

for (const job of jobs) {
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    chrome ??= await chromeLauncher.launch({ chromeFlags: CHROME_FLAGS });
    const started = Date.now();
    const flags = {
      port: chrome.port,
      output: "json",
      logLevel: "error",
      // The full-page screenshot only illustrates the HTML report; no score depends on it.
      disableFullPageScreenshot: true,
    };
    let problem;
    try {
      const result = await lighthouse(
        job.url,
        flags,
        job.preset === "desktop" ? desktopConfig : undefined,
      );
      problem = result.lhr.runtimeError?.code;
      if (!problem || attempt === ATTEMPTS) {
        result.lhr.benchAttempts = attempt;
        await writeFile(job.output, JSON.stringify(result.lhr));
        const seconds = (Date.now() - started) / 1000;
        console.log(`done ${job.preset} ${job.url} ${seconds}s attempt ${attempt}`);
        break;
      }
    } catch (error) {
      problem = String(error);
    }
    console.log(`retry ${job.preset} ${job.url} after attempt ${attempt}: ${problem}`);
    await chrome.kill();
    chrome = null;
  }
}
await chrome?.kill();
