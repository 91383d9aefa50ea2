// HTML building blocks. Everything that comes from a trace (task names, paths, skipped
// line text) goes through esc(); JSON embedded in the page goes through jsonForScript().
import { createHash } from 'node:crypto';

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for element content or a quoted attribute value. Control characters (terminal
 *  escapes in task names) become U+FFFD so they cannot confuse whoever reads the file. */
export function esc(text: unknown): string {
  return plainText(text).replace(/[&<>"']/g, (c) => ESC[c]);
}

/** Text set with textContent (page script data): control characters, and bidirectional
 *  overrides and isolates (U+202E would show "exe.gnp" as "png.exe" and reorder the text
 *  after it), become U+FFFD. */
export function plainText(text: unknown): string {
  return String(text)
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '\ufffd');
}

/** JSON that is safe inside <script type="application/json">: no `<` (so no `</script>`
 *  or `<!--`), and no U+2028/2029. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Library code inlined in a <script>: it must not close the element early. */
export function inlineScript(code: string): string {
  return code.replace(/<\/script/gi, '<\\/script').replace(/<!--/g, '<\\!--');
}

/** CSP source for an inline script: only scripts whose hash is listed may run, so markup
 *  that escaped escaping still could not execute. */
export function scriptHash(code: string): string {
  return `'sha256-${createHash('sha256').update(code, 'utf8').digest('base64')}'`;
}

/** `<!doctype html>` to `</head>` of a self-contained report: a Content-Security-Policy
 *  that lets only `scripts` (by hash; vega compiles expressions, hence 'unsafe-eval') and
 *  inline styles run, loads nothing from anywhere, and submits nowhere. */
export function documentHead(title: string, scripts: string[], css: string, generator?: string): string {
  const csp = [
    "default-src 'none'",
    `script-src ${scripts.length ? `${scripts.map(scriptHash).join(' ')} 'unsafe-eval'` : "'none'"}`,
    "style-src 'unsafe-inline'",
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${esc(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
${generator === undefined ? '' : `<meta name="generator" content="${esc(generator)}">\n`}<title>${esc(title)}</title>
<style>${css}</style>
</head>`;
}

export { fmtCount } from '../analysis/format.ts';

export const CSS = `
:root { --fg:#1d2430; --muted:#5b6575; --line:#dde2ea; --best:#dff3e4; --bad:#fbe3e1; --accent:#2f5d9e; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); margin: 0; background: #f6f7f9; }
header.top { background: #1f2d44; color: #fff; padding: 14px 28px; }
header.top h1 { margin: 0; font-size: 20px; font-weight: 600; }
header.top p { margin: 4px 0 0; color: #c9d3e3; font-size: 13px; }
main { padding: 8px 28px 40px; max-width: 1280px; }
nav.inputs { margin: 12px 0; font-size: 13px; }
nav.inputs a { margin-right: 14px; color: var(--accent); }
nav.toc { margin: 10px 0; font-size: 13px; }
nav.toc ul { margin: 2px 0; padding-left: 18px; }
nav.toc > details > ul > li > ul { display: flex; flex-wrap: wrap; gap: 0 14px; padding-left: 12px; list-style: none; }
nav.toc a, a.pl { color: var(--accent); text-decoration: none; }
a.pl { font-size: 12px; font-weight: normal; visibility: hidden; }
h2:hover a.pl, h3:hover a.pl, a.pl:focus { visibility: visible; }
section.input, section.extra { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 14px 20px 18px; margin: 16px 0; }
h2 { font-size: 17px; margin: 0 0 8px; word-break: break-all; }
h3 { font-size: 15px; margin: 22px 0 6px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr max-content 1fr max-content 1fr; gap: 2px 14px; margin: 0; font-size: 13px; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
.findings { margin: 4px 0 8px; }
.findings .headline { display: block; }
.note { color: var(--muted); font-size: 12.5px; margin: 4px 0; }
.warn { color: #8a4b00; }
.scroll { overflow-x: auto; }
table.data { border-collapse: collapse; font-size: 12.5px; font-variant-numeric: tabular-nums; }
table.data th, table.data td { border-bottom: 1px solid var(--line); padding: 3px 8px; text-align: right; white-space: nowrap; }
table.data th { background: #f0f2f6; font-weight: 600; vertical-align: bottom; }
table.summary th { white-space: normal; min-width: 64px; max-width: 96px; line-height: 1.2; }
table.data th.l, table.data td.l { text-align: left; }
table.data td.best { background: var(--best); font-weight: 600; }
table.data td.bad { background: var(--bad); font-weight: 600; }
table.data tr.baseline td { background: #f7f9fc; }
table.data td .r { display: block; color: var(--muted); font-size: 11px; font-weight: normal; }
table.data td.wrap { white-space: normal; max-width: 420px; text-align: left; }
figure.chart { margin: 18px 0 8px; }
figure.chart figcaption h3 { margin: 0; }
figure.chart figcaption p { margin: 2px 0 6px; color: var(--muted); font-size: 12.5px; }
.chart-body { overflow-x: auto; }
.chart-body svg { max-width: none; }
details { margin: 6px 0; font-size: 13px; }
.tip { position: absolute; display: none; background: rgba(255,255,255,.97); border: 1px solid #aab; border-radius: 4px; padding: 4px 8px; font-size: 12px; pointer-events: none; box-shadow: 0 2px 6px rgba(0,0,0,.15); z-index: 10; }
code { font-size: 12px; }
.name { font-family: ui-monospace, monospace; font-size: 12px; background: #eef1f5; border-radius: 3px; padding: 0 4px; white-space: pre-wrap; word-break: break-all; }
`;

/** The page script: replace each static SVG by an interactive Vega view (tooltips, legend
 *  selection) when the inlined runtime is there. Text shown in tooltips is set with
 *  textContent, never as markup. */
export const APP_SCRIPT = `(function () {
  if (typeof vega === 'undefined') return;
  var tip = document.createElement('div');
  tip.className = 'tip';
  document.body.appendChild(tip);
  function show(handler, event, item, value) {
    if (value == null || value === '') { tip.style.display = 'none'; return; }
    tip.textContent = '';
    if (typeof value === 'object') {
      Object.keys(value).forEach(function (k) {
        var row = document.createElement('div');
        row.textContent = k + ': ' + value[k];
        tip.appendChild(row);
      });
    } else { tip.textContent = String(value); }
    tip.style.display = 'block';
    tip.style.left = (event.pageX + 12) + 'px';
    tip.style.top = (event.pageY + 12) + 'px';
  }
  var figures = document.querySelectorAll('figure.chart');
  var pending = [];
  figures.forEach(function (fig) {
    var body = fig.querySelector('.chart-body');
    var specEl = fig.querySelector('script.vega-spec');
    if (!body || !specEl) return;
    var spec = JSON.parse(specEl.textContent);
    var holder = document.createElement('div');
    var view = new vega.View(vega.parse(spec), { renderer: 'svg', hover: true });
    view.tooltip(show);
    view.initialize(holder);
    pending.push(view.runAsync().then(function () { body.replaceChildren(holder); }));
  });
  Promise.all(pending).then(function () { document.body.setAttribute('data-interactive', 'ready'); },
    function (e) { document.body.setAttribute('data-interactive', 'failed'); console.error(e); });
})();`;
