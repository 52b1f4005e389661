// An on-call engineer's journey in headless Chromium (Debian's chromium
// through playwright-core): ask the bundled question and watch the answer
// stream in with its evidence, give feedback, open a cited record, the
// timeline, search and the architects' page. A screenshot of each page is
// saved. Any console error (a CSP violation included) fails the run.
//
// Usage: node journey.cjs BASE_URL SCREENSHOT_DIR QUESTION
const { chromium } = require('playwright-core');
const path = require('path');

const [base, shots, question] = process.argv.slice(2);

function check(condition, message) {
  if (!condition) throw new Error(message);
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.ONCALL_CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const problems = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('response', (r) => { if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`); });
    const shot = async (name) => {
      await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
      console.log(`screenshot ${name}.png`);
    };

    await page.goto(`${base}/`);
    await page.fill('input[name=q]', question);
    const streamed = page.waitForResponse((r) => r.url().includes('/api/ask/stream'));
    await page.click('#ask button[type=submit]');
    check((await streamed).headers()['content-type'].startsWith('text/event-stream'), 'answer is streamed');
    await page.waitForSelector('#feedback[data-question]', { timeout: 60000 });
    check(new URL(page.url()).pathname === '/', 'the page was not reloaded');
    const mode = await page.textContent('#answer .mode');
    check(/evidence mode/.test(mode), `answer mode shown: ${mode}`);
    const cited = await page.$$eval('#evidence tr[id^="r-"]', (rows) => rows.length);
    check(cited > 0, 'evidence rows are listed');
    const changes = await page.$$eval('#evidence tr.cited-change', (rows) => rows.length);
    check(changes > 0, 'the cited change is highlighted');
    console.log(`answer streamed with ${cited} cited records (${changes} changes)`);
    await shot('ask');

    await page.click('#feedback button[data-useful=true]');
    await page.waitForSelector('text=Thanks: feedback kept.');

    const record = await page.getAttribute('#evidence tr.cited-change a', 'href');
    await page.goto(`${base}${record}`);
    await page.waitForSelector('#neighbours tr.current');
    await shot('record');

    await page.goto(`${base}/timeline`);
    await page.waitForSelector('#timeline-chart svg polyline');
    const markers = await page.$$eval('#timeline-chart .change-marker', (m) => m.length);
    check(markers > 0, 'changes are marked on the timeline');
    const anomalies = await page.$$eval('#anomalies tr', (rows) => rows.length - 1);
    check(anomalies > 0, 'anomalies are listed');
    console.log(`timeline: ${markers} change markers, ${anomalies} anomalies`);
    await shot('timeline');

    await page.goto(`${base}/search?q=invalid_token`);
    await page.waitForSelector('#facets li');
    await shot('search');

    await page.goto(`${base}/insights`);
    const usefulness = (await page.textContent('#usefulness')).trim();
    check(usefulness === '100%', `the feedback shows on the metrics page: ${usefulness}`);
    await shot('insights');

    await page.goto(`${base}/sources`);
    await page.waitForSelector('#sources tr');
    await shot('sources');

    check(problems.length === 0, `console errors: ${problems.join(' | ')}`);
  } finally {
    await browser.close();
  }
})().catch((error) => {
  console.error(`journey: ${error.message}`);
  process.exit(1);
});
