// Full-page screenshot with Debian's chromium through playwright-core.
// Usage: node screenshot.cjs URL OUT.png WIDTH (NODE_PATH finds playwright-core).
const { chromium } = require('playwright-core');

(async () => {
  const [url, out, width] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: Number(width), height: 900 } });
    const response = await page.goto(url, { waitUntil: 'load' });
    if (response && !response.ok()) {
      throw new Error(`${url} answered ${response.status()}`);
    }
    await page.screenshot({ path: out, fullPage: true });
    console.error(`screenshot: ${url} -> ${out}`);
  } finally {
    await browser.close();
  }
})().catch((error) => {
  console.error(`screenshot: ${error.message}`);
  process.exit(1);
});
