// The status panel's view. Plain JS (no build step), type-checked by tsconfig.panel.json against
// the message types below; all data arrives by postMessage from src/extension/statusPanel.ts and
// is kept in the webview state so a hidden or reloaded panel comes back as it was.
// @ts-check
/**
 * @typedef {import('../src/extension/panelModel').ToPanel} ToPanel
 * @typedef {import('../src/extension/panelModel').FromPanel} FromPanel
 * @typedef {import('../src/extension/panelModel').PanelCommand} PanelCommand
 * @typedef {import('../src/extension/panelModel').PanelState} PanelState
 * @typedef {import('../src/extension/panelModel').PanelSample} PanelSample
 * @typedef {{ postMessage(message: FromPanel): void, getState(): PanelState | undefined, setState(state: PanelState): void }} WebviewApi
 */
(function () {
  // @ts-expect-error acquireVsCodeApi is provided by VS Code inside webviews
  const vscode = /** @type {WebviewApi} */ (acquireVsCodeApi());
  const SAMPLE_MS = 2000; // as PanelHistory: a burst updates the newest point
  const MAX_SAMPLES = 300;
  const SVG = 'http://www.w3.org/2000/svg';
  const W = 600;
  const H = 140;

  const saved = vscode.getState();
  /** @type {PanelState & { samples: PanelSample[] }} */
  let state = { summary: saved?.summary, samples: saved?.samples ?? [] };

  /** @param {string} tag @param {Record<string,string>} [attrs] @param {(Node|string)[]} children */
  function h(tag, attrs = {}, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    for (const c of children) el.append(c);
    return el;
  }
  /** @param {string} tag @param {Record<string,string|number>} [attrs] */
  function s(tag, attrs = {}) {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    return el;
  }
  /** @param {string} id */
  function number(id) {
    return h('span', { id, 'data-testid': id, class: 'number' }, '–');
  }
  /** @param {string} label @param {HTMLElement} value @param {(Node|string)[]} rest */
  function tile(label, value, ...rest) {
    return h('div', { class: 'tile' }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value, ...rest));
  }
  /** @param {PanelCommand} command @param {string} label */
  function button(command, label) {
    const b = h('button', { type: 'button', 'data-command': command }, label);
    b.addEventListener('click', () => vscode.postMessage({ type: 'command', command }));
    return b;
  }

  const root = /** @type {HTMLElement} */ (document.getElementById('root'));
  const stateBadge = h('span', { id: 'pool-state', 'data-testid': 'pool-state', class: 'state' }, '–');
  const startBtn = button('poPool.startPool', 'Start Pool');
  const stopBtn = button('poPool.stopPool', 'Stop Pool');
  const queueSvg = s('svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', class: 'chart', 'data-testid': 'queue-chart', role: 'img' });
  const memorySvg = s('svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', class: 'chart', 'data-testid': 'memory-chart', role: 'img' });
  const queueAxis = h('div', { class: 'axis' });
  const memoryAxis = h('div', { class: 'axis' });
  const legend = h('div', { class: 'legend', 'data-testid': 'memory-legend' });
  const workersBody = h('tbody');
  const errorsBody = h('tbody');
  const lastError = h('span', { id: 'last-error', 'data-testid': 'last-error', class: 'muted' });
  // The one live region: a screen reader hears the pool change state or finish, not every number
  // that moves twice a second.
  const statusLine = h('p', { id: 'status-line', 'data-testid': 'status-line', class: 'muted', role: 'status', 'aria-live': 'polite' });
  let announced = '';

  root.replaceChildren(
    h('header', {}, h('h1', {}, 'PO Pool'), stateBadge, h('div', { class: 'actions' },
      startBtn, stopBtn, button('poPool.retryFailed', 'Retry Failed POs'), button('poPool.openDownloads', 'Open Downloads Folder'), button('poPool.showLog', 'Show Log'))),
    statusLine,
    h('section', { class: 'tiles' },
      tile('Processed', number('processed'), h('span', { class: 'of' }, ' of '), number('total')),
      tile('Queued', number('queue-depth')),
      tile('Running', number('running')),
      tile('Throughput', number('throughput')),
      tile('Time left', number('eta')),
      tile('Not completed', number('failed'))),
    h('section', {}, h('h2', {}, 'Queue depth'), queueSvg, queueAxis),
    h('section', {}, h('h2', {}, 'Memory per worker, stacked'), memorySvg, memoryAxis, legend),
    h('section', {}, h('h2', {}, 'Workers'),
      h('table', { 'data-testid': 'workers' }, h('thead', {}, h('tr', {}, h('th', {}, 'Worker'), h('th', {}, 'State'), h('th', { class: 'num' }, 'Memory'), h('th', {}, 'PO'))), workersBody)),
    h('section', {}, h('h2', {}, 'Errors'), lastError,
      h('table', { 'data-testid': 'errors' }, h('thead', {}, h('tr', {}, h('th', {}, 'Kind'), h('th', { class: 'num' }, 'Count'), h('th', {}, 'Last'))), errorsBody)),
  );

  // Numbers and durations read as in the rest of the window: src/shared/format.ts's Intl options,
  // in the display language the extension names. Formatted here, not sent as text, because the
  // chart's figures come from the panel's own history and "ago" from the clock when it draws; the
  // webview loads this file as is, so those few helpers are repeated. Throughput and ETA arrive as text.
  const locale = root.dataset.locale || undefined;
  const countFormat = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
  const megabyteFormat = new Intl.NumberFormat(locale, { style: 'unit', unit: 'megabyte', unitDisplay: 'short', maximumFractionDigits: 0 });
  /** @type {[Intl.NumberFormat, number][]} */
  const durationUnits = /** @type {const} */ ([['day', 86_400], ['hour', 3600], ['minute', 60], ['second', 1]])
    .map(([unit, size]) => [new Intl.NumberFormat(locale, { style: 'unit', unit, unitDisplay: 'short' }), size]);
  const unitList = new Intl.ListFormat(locale, { style: 'narrow', type: 'unit' });

  /** @param {number} n */
  function count(n) {
    return countFormat.format(Math.round(n));
  }
  /** @param {number} mb */
  function megabytes(mb) {
    return megabyteFormat.format(mb);
  }
  /** As formatDuration: the largest unit and the next one when not zero, "3 min 7 sec". @param {number} ms */
  function duration(ms) {
    const total = Math.max(0, Math.round(ms / 1000));
    const fits = durationUnits.findIndex(([, size]) => total >= size);
    const at = fits === -1 ? durationUnits.length - 1 : fits;
    const [format, size] = durationUnits[at];
    const parts = [format.format(Math.floor(total / size))];
    const next = durationUnits[at + 1];
    if (next && Math.floor((total % size) / next[1]) > 0) parts.push(next[0].format(Math.floor((total % size) / next[1])));
    return unitList.format(parts);
  }
  /** @param {number} ms */
  function ago(ms) {
    return `${duration(ms)} ago`;
  }

  /** @param {string} id @param {string|number} value */
  function setText(id, value) {
    const el = document.getElementById(id);
    if (el) el.textContent = typeof value === 'number' ? count(value) : value;
  }

  /**
   * Lines (or, with `stacked`, areas piled on each other) against time, with an optional dashed limit.
   * @param {SVGElement} svg
   * @param {{ points: [number, number][], cls: string }[]} series
   * @param {{ yMax: number, t0: number, t1: number, limit?: number, stacked?: boolean }} o
   */
  function drawChart(svg, series, o) {
    const span = Math.max(1, o.t1 - o.t0);
    const x = (/** @type {number} */ t) => (((t - o.t0) / span) * W).toFixed(1);
    const y = (/** @type {number} */ v) => (H - (v / o.yMax) * (H - 4) - 2).toFixed(1);
    const nodes = [];
    for (const f of [0.25, 0.5, 0.75]) nodes.push(s('line', { x1: 0, x2: W, y1: H * f, y2: H * f, class: 'grid' }));
    /** @type {Map<number, number>} */
    const base = new Map();
    for (const { points, cls } of series) {
      if (!points.length) continue;
      const pts = points.length === 1 ? [[o.t0, points[0][1]], [o.t1, points[0][1]]] : points;
      if (o.stacked) {
        const top = pts.map(([t, v]) => [t, (base.get(t) ?? 0) + v]);
        const bottom = pts.map(([t]) => [t, base.get(t) ?? 0]).reverse();
        for (const [t, v] of top) base.set(t, v);
        nodes.push(s('polygon', { points: [...top, ...bottom].map(([t, v]) => `${x(t)},${y(v)}`).join(' '), class: `area ${cls}` }));
      } else {
        nodes.push(s('polyline', { points: pts.map(([t, v]) => `${x(t)},${y(v)}`).join(' '), class: `line ${cls}` }));
      }
    }
    if (o.limit && o.limit <= o.yMax) nodes.push(s('line', { x1: 0, x2: W, y1: y(o.limit), y2: y(o.limit), class: 'threshold', 'data-testid': 'memory-threshold' }));
    svg.replaceChildren(...nodes);
  }

  function render() {
    const sum = state.summary;
    if (!sum) return;
    stateBadge.textContent = sum.state;
    stateBadge.className = `state state-${sum.state.toLowerCase()}`;
    const up = sum.state === 'INITIALIZING' || sum.state === 'READY' || sum.state === 'PROCESSING';
    startBtn.hidden = up;
    stopBtn.hidden = !up;
    setText('processed', sum.processed);
    setText('total', sum.total);
    setText('queue-depth', sum.queueDepth);
    setText('running', sum.running);
    setText('throughput', sum.throughput);
    setText('eta', sum.eta);
    setText('failed', sum.failed);
    const finished = sum.total > 0 && sum.processed >= sum.total;
    const announce = `Pool ${sum.state.toLowerCase()}${finished ? `: all ${count(sum.total)} POs processed, ${count(sum.failed)} not completed` : ''}`;
    if (announce !== announced) statusLine.textContent = announced = announce;

    const samples = state.samples;
    const now = Date.now();
    const t0 = samples.length ? samples[0].t : now;
    const t1 = samples.length ? Math.max(samples[samples.length - 1].t, t0 + 1) : now;
    const queueMax = Math.max(1, ...samples.map((p) => p.queue));
    drawChart(queueSvg, [{ points: samples.map((p) => [p.t, p.queue]), cls: 'series-queue' }], { yMax: queueMax * 1.1, t0, t1 });
    queueAxis.textContent = samples.length ? `max ${count(queueMax)} · over the last ${duration(now - t0)}` : 'no data yet';
    queueSvg.setAttribute('aria-label', `Queue depth: ${count(sum.queueDepth)} now, ${queueAxis.textContent}`);

    // Workers' memory piled up is the pool's, which is what the limit is about. A limit far above
    // the pool would flatten the chart, so it is then named instead of drawn.
    const ids = [...new Set(samples.flatMap((p) => Object.keys(p.mem)))].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    const peak = Math.max(1, ...samples.map((p) => Object.values(p.mem).reduce((a, b) => a + b, 0)));
    const limit = sum.thresholdMb;
    const limitShown = limit > 0 && limit <= peak * 4;
    drawChart(memorySvg, ids.map((id, i) => ({
      points: samples.map((p) => [p.t, p.mem[id] ?? 0]),
      cls: `series-${i % 8}`,
    })), { yMax: limitShown ? Math.max(peak, limit) * 1.05 : peak * 1.25, t0, t1, limit: limitShown ? limit : undefined, stacked: true });
    memoryAxis.textContent = !limit
      ? 'no pool running'
      : `pool ${megabytes(sum.poolMb)} now, peak ${megabytes(peak)} · limit ${megabytes(limit)}${limitShown ? ' (dashed)' : ', far above the chart'}`;
    memorySvg.setAttribute('aria-label', `Memory per worker, stacked: ${memoryAxis.textContent}`);
    legend.replaceChildren(...ids.map((id, i) => h('span', { class: `key series-${i % 8}` }, id)));

    workersBody.replaceChildren(...sum.workers.map((w) => h('tr', { 'data-testid': `worker-${w.id}` },
      h('td', {}, w.id), h('td', {}, w.state.toLowerCase()), h('td', { class: 'num' }, megabytes(w.memoryMb)), h('td', {}, w.currentPo || ''))));
    if (!sum.workers.length) workersBody.replaceChildren(h('tr', {}, h('td', { colspan: '4', class: 'muted' }, 'No workers running.')));

    errorsBody.replaceChildren(...sum.errors.map((e) => h('tr', { 'data-testid': `error-${e.kind}` },
      h('td', {}, e.kind), h('td', { class: 'num', 'data-testid': `error-count-${e.kind}` }, count(e.count)), h('td', {}, ago(now - e.lastAt)))));
    if (!sum.errors.length) errorsBody.replaceChildren(h('tr', {}, h('td', { colspan: '3', class: 'muted' }, 'No errors.')));
    lastError.textContent = sum.lastErrorAt ? `Last error ${ago(now - sum.lastErrorAt)}` : '';
  }

  window.addEventListener('message', (event) => {
    /** @type {ToPanel | undefined} */
    const m = event.data;
    if (m?.type === 'snapshot') {
      state = { summary: m.summary ?? state.summary, samples: m.samples.length ? m.samples : state.samples };
    } else if (m?.type === 'update') {
      state.summary = m.summary;
      const last = state.samples[state.samples.length - 1];
      if (last && m.sample.t - last.t < SAMPLE_MS) state.samples[state.samples.length - 1] = { ...m.sample, t: last.t };
      else state.samples.push(m.sample);
      if (state.samples.length > MAX_SAMPLES) state.samples.splice(0, state.samples.length - MAX_SAMPLES);
    } else {
      return;
    }
    vscode.setState(state);
    render();
  });

  render();
  vscode.postMessage({ type: 'ready' });
})();
