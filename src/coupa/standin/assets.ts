/**
 * The weight of a real Coupa page, for benchmarks (`heavyPages`): Coupa's pages load a large bundled
 * application script that builds much of the page's DOM, and a stylesheet of thousands of rules. Both
 * are cached by the browser (immutable, a year), as a CDN serves them, so the cost a browser pays per
 * PO page is parsing and running them and styling what they build, not fetching them again.
 */
import { createHash } from 'node:crypto';

const SCRIPT_BYTES = 1_500_000;
const CSS_RULES = 6_000;

/** A minified-looking bundle: many small modules, most never called (V8 parses them lazily), and one that builds a panel. */
function appScript(): string {
  const modules: string[] = [];
  let size = 0;
  for (let i = 0; size < SCRIPT_BYTES; i++) {
    const m = `m[${i}]=function(e,t,n){"use strict";var r=n(${(i * 7) % 997}),o={id:${i},k:"c${i.toString(36)}_${(i * 2654435761) % 1e9}",f:function(a){return a&&a.length?a.map(function(x){return x*${(i % 13) + 1}+r}):[]},g:function(s){return String(s).replace(/[^a-z0-9]/gi,"_").slice(0,${(i % 40) + 8})}};t.exports=o};\n`;
    modules.push(m);
    size += m.length;
  }
  // Builds what Coupa's scripts build around a PO: menus, hidden dialogs, a long list of options.
  const build = `function build(){var root=document.createElement("div");root.id="app_shell";root.setAttribute("aria-hidden","true");root.style.display="none";
for(var i=0;i<1500;i++){var d=document.createElement("div");d.className="c-item c-item--"+(i%17)+" m"+(i%29);var s=document.createElement("span");s.textContent="Item "+i;d.appendChild(s);
if(i%5===0){var b=document.createElement("button");b.type="button";b.className="c-btn c-btn--"+(i%7);b.textContent="Action "+i;d.appendChild(b);}root.appendChild(d);}
document.body.appendChild(root);document.body.setAttribute("data-app","ready");}
if(document.readyState==="loading")document.addEventListener("DOMContentLoaded",build);else build();`;
  return `(function(){var m=[];\n${modules.join('')}function n(i){return i}\n${build}})();\n`;
}

function appStyle(): string {
  const rules: string[] = [];
  for (let i = 0; i < CSS_RULES; i++) {
    rules.push(`.c-item--${i % 17}.m${i % 29} .c${i.toString(36)} > span:not(:empty)+button.c-btn--${i % 7}{margin:${i % 9}px ${i % 5}px;padding:${i % 4}px;color:#${(i * 4099).toString(16).padStart(6, '0').slice(0, 6)};border-radius:${i % 6}px}`);
  }
  return rules.join('\n');
}

export interface Asset {
  path: string;
  contentType: string;
  body: Buffer;
}

let built: Asset[] | undefined;

/** The script and stylesheet, named after their content as a bundler names them; made once per process. */
export function heavyAssets(): Asset[] {
  if (built) return built;
  const make = (name: string, ext: string, contentType: string, text: string): Asset => {
    const body = Buffer.from(text);
    return { path: `/assets/${name}-${createHash('sha256').update(body).digest('hex').slice(0, 12)}.${ext}`, contentType, body };
  };
  built = [make('application', 'js', 'application/javascript; charset=utf-8', appScript()), make('application', 'css', 'text/css; charset=utf-8', appStyle())];
  return built;
}

/**
 * What every page with Coupa's top bar loads, heavy or not: the logo and the web font of the bar.
 * Small, but what a client that skips images and fonts (pageResources.ts) never asks for.
 */
export const PAGE_ASSETS: Asset[] = [
  {
    path: '/assets/coupa-logo.png',
    contentType: 'image/png',
    body: Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64'),
  },
  // A woff2 signature and no more: the browser asks for it, then falls back to the next family.
  { path: '/assets/coupa-sans.woff2', contentType: 'font/woff2', body: Buffer.from('wOF2\0\x01\0\0', 'latin1') },
];

/** What goes into `<head>` of a heavy page. */
export function heavyHead(): string {
  const [script, style] = heavyAssets();
  return `<link rel="stylesheet" href="${style.path}">\n<script src="${script.path}" defer></script>`;
}
