(function () {
  'use strict';
  var errors = [];
  function fail(msg) {
    errors.push(String(msg));
    var e = document.getElementById('js-errors');
    if (e) { e.hidden = false; e.textContent = 'Report script error: ' + errors.join('; '); }
    document.body.setAttribute('data-render-error', String(errors.length));
  }
  window.addEventListener('error', function (ev) { fail(ev.message); });

  var NS = 'http://www.w3.org/2000/svg';
  function svg(name, attrs, parent, text) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) { if (Object.prototype.hasOwnProperty.call(attrs, k)) { e.setAttribute(k, attrs[k]); } }
    if (text !== undefined) { e.textContent = text; }
    if (parent) { parent.appendChild(e); }
    return e;
  }
  function html(name, attrs, parent, text) {
    var e = document.createElement(name);
    for (var k in attrs) { if (Object.prototype.hasOwnProperty.call(attrs, k)) { e.setAttribute(k, attrs[k]); } }
    if (text !== undefined) { e.textContent = text; }
    if (parent) { parent.appendChild(e); }
    return e;
  }
  function fmt(n) { return Number(n).toLocaleString('en-US'); }
  function size(b) {
    if (b >= 1073741824) { return (b / 1073741824).toFixed(2) + ' GiB'; }
    if (b >= 1048576) { return (b / 1048576).toFixed(1) + ' MiB'; }
    if (b >= 1024) { return (b / 1024).toFixed(1) + ' KiB'; }
    return b + ' B';
  }
  function short(n) {
    if (n >= 1e9) { return (n / 1e9).toFixed(1) + 'G'; }
    if (n >= 1e6) { return (n / 1e6).toFixed(1) + 'M'; }
    if (n >= 1e4) { return (n / 1e3).toFixed(0) + 'k'; }
    if (n >= 1e3) { return (n / 1e3).toFixed(1) + 'k'; }
    return String(Math.round(n * 100) / 100);
  }

  // Colours: page data blue, vCPU state orange, HVM green, emulator purple, checkpoint red, headers grey; others hashed.
  var fixed = {
    PAGE_DATA: '#4c78c8', POSTCOPY_PAGE_DATA: '#7aa6e8', XL_HEADER: '#8d96a5', LIBXL_HEADER: '#a3abb8', IMAGE_HEADER: '#b6bdc8',
    DOMAIN_HEADER: '#c6ccd5', LIBXC_CONTEXT: '#6c7686', END: '#3b4250', X86_PV_VCPU_BASIC: '#f08c2e', X86_PV_VCPU_EXTENDED: '#f5a65b',
    X86_PV_VCPU_XSAVE: '#f8bf86', X86_PV_VCPU_MSRS: '#e0761c', HVM_CONTEXT: '#3a9d5d', HVM_PARAMS: '#72c08a', EMULATOR_CONTEXT: '#8e5ec9',
    EMULATOR_XENSTORE_DATA: '#b597e0', CHECKPOINT: '#d6453d', CHECKPOINT_END: '#e8776f', CHECKPOINT_STATE: '#f0a39d',
    CHECKPOINT_DIRTY_PFN_LIST: '#c2185b', VERIFY: '#222', X86_PV_INFO: '#d4a72c', X86_PV_P2M_FRAMES: '#e6c25a', SHARED_INFO: '#9c7b2b',
    X86_TSC_INFO: '#2aa198', STATIC_DATA_END: '#556', X86_CPUID_POLICY: '#0f7c8c', X86_MSR_POLICY: '#55b3c0', TOOLSTACK: '#a0522d',
    POSTCOPY_FAULT: '#e53935', POSTCOPY_TRANSITION: '#ef6c00', TRAILING_DATA: '#999', LEGACY_IMAGE: '#777'
  };
  var palette = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
  function colour(type) {
    if (fixed[type]) { return fixed[type]; }
    var h = 0;
    for (var i = 0; i < type.length; i++) { h = (h * 31 + type.charCodeAt(i)) | 0; }
    return palette[Math.abs(h) % palette.length];
  }

  // Odd memory passes are drawn lighter, so pass boundaries show in the map.
  function lighter(hex) {
    var n = parseInt(hex.substring(1), 16), r = (n >> 16) & 255, g = (n >> 8) & 255, b = n & 255;
    function mix(v) { return Math.round(v + (255 - v) * 0.38); }
    return 'rgb(' + mix(r) + ',' + mix(g) + ',' + mix(b) + ')';
  }

  var D = JSON.parse(document.getElementById('report-data').textContent);
  var streams = {};
  var selected = null;

  function detail(title, rows) {
    var box = document.getElementById('detail');
    box.textContent = '';
    var x = html('button', { 'class': 'x', title: 'close' }, box, '×');
    x.addEventListener('click', function () { box.hidden = true; });
    html('h3', {}, box, title);
    var t = html('table', {}, box);
    rows.forEach(function (r) {
      var tr = html('tr', {}, t);
      html('th', {}, tr, r[0]);
      html('td', {}, tr, r[1]);
    });
    box.hidden = false;
  }

  function showSegment(s, i) {
    var g = s.segments[i];
    var rows = [
      ['offset', fmt(g[0]) + ' (0x' + g[0].toString(16) + ')'],
      ['length', fmt(g[1]) + ' bytes (' + size(g[1]) + ')'],
      ['layer', g[2]]
    ];
    if (g[4] >= 0) { rows.push(['record', g[4] === g[5] ? '#' + g[4] : '#' + g[4] + ' .. #' + g[5] + ' (' + fmt(g[6]) + ' records)']); }
    if (g[7] > 0) { rows.push(['checkpoint', String(g[7])]); }
    if (g[8] >= 0) { rows.push(['pass', String(g[8])]); }
    if (g[9]) {
      g[9].split('\n').forEach(function (kv) {
        var eq = kv.indexOf('=');
        rows.push(eq > 0 ? [kv.substring(0, eq), kv.substring(eq + 1)] : ['', kv]);
      });
    }
    s.findings.forEach(function (f) {
      if ((f[0] >= 0 && f[0] >= g[4] && f[0] <= g[5]) || (f[0] < 0 && f[1] >= g[0] && f[1] < g[0] + g[1])) { rows.push([f[2], f[3]]); }
    });
    detail(g[3], rows);
    if (selected) { selected.forEach(function (r) { r.classList.remove('sel'); }); }
    selected = s.rects[i] || [];
    selected.forEach(function (r) { r.classList.add('sel'); });
  }

  function findSegment(s, record, offset) {
    var segs = s.segments;
    for (var i = 0; i < segs.length; i++) {
      var g = segs[i];
      if (record >= 0 && g[4] >= 0 && record >= g[4] && record <= g[5]) { return i; }
      if (record < 0 && offset >= g[0] && offset < g[0] + g[1]) { return i; }
    }
    return -1;
  }

  function drawMap(s) {
    var box = document.getElementById(s.id + '-mapsvg');
    if (!box) { return; }
    var W = Math.max(600, (box.clientWidth || 1100) - 4), left = 86, w = W - left - 8, rowH = 20, gap = 5;
    var segs = s.segments, total = 0;
    segs.forEach(function (g) { total += g[1]; });
    if (segs.length === 0 || total === 0) { html('p', { 'class': 'note' }, box, 'No records.'); return; }
    var minPx = 2;
    var rowsWanted = Math.min(16, Math.max(4, Math.ceil(segs.length * minPx * 2.2 / w)));
    var avail = w * rowsWanted - segs.length * minPx;
    var bpp = total / Math.max(w, avail);
    var px = segs.map(function (g) { return Math.max(minPx, g[1] / bpp); });
    var sum = px.reduce(function (a, b) { return a + b; }, 0);
    var rows = Math.max(1, Math.ceil(sum / w));
    var root = svg('svg', { width: W, height: rows * (rowH + gap) + 4, role: 'img', 'aria-label': 'record map' }, box);
    var x = 0, row = 0;
    s.rects = [];
    var labelled = -1;
    for (var i = 0; i < segs.length; i++) {
      var g = segs[i], remaining = px[i], c = colour(g[3]);
      if (g[8] >= 0 && g[8] % 2 === 1) { c = lighter(c); }
      s.rects[i] = [];
      while (remaining > 0.01) {
        if (labelled !== row) {
          var at = g[0] + Math.floor(g[1] * (px[i] - remaining) / px[i]);
          svg('text', { x: left - 6, y: row * (rowH + gap) + rowH - 5, 'text-anchor': 'end', 'font-size': 10.5, fill: '#5b6577' }, root, size(at));
          labelled = row;
        }
        var take = Math.min(remaining, w - x);
        var r = svg('rect', { x: (left + x).toFixed(2), y: row * (rowH + gap), width: Math.max(0.8, take).toFixed(2), height: rowH, fill: c, 'class': 'seg', 'data-i': i }, root);
        svg('title', {}, r, g[3] + ' @' + g[0] + (g[6] > 1 ? ' (' + g[6] + ' records)' : ''));
        s.rects[i].push(r);
        remaining -= take;
        x += take;
        if (x >= w - 0.01) { x = 0; row++; }
      }
    }
    root.addEventListener('click', function (ev) {
      var t = ev.target;
      if (t && t.getAttribute && t.getAttribute('data-i') !== null) { showSegment(s, Number(t.getAttribute('data-i'))); }
    });
    // Legend: types in order of first appearance with record counts.
    var leg = document.getElementById(s.id + '-legend');
    var seen = {}, order = [];
    segs.forEach(function (g) { if (!seen[g[3]]) { seen[g[3]] = 0; order.push(g[3]); } seen[g[3]] += g[6]; });
    order.forEach(function (t) {
      var sp = html('span', {}, leg);
      var sw = html('span', { 'class': 'sw' }, sp);
      sw.style.background = colour(t);
      sp.appendChild(document.createTextNode(t + ' ' + fmt(seen[t])));
    });
  }

  function axes(root, x0, y0, w, h, ymax, yfmt) {
    svg('line', { x1: x0, y1: y0 + h, x2: x0 + w, y2: y0 + h, stroke: '#9aa6b8' }, root);
    svg('line', { x1: x0, y1: y0, x2: x0, y2: y0 + h, stroke: '#9aa6b8' }, root);
    for (var k = 0; k <= 4; k++) {
      var v = ymax * k / 4, y = y0 + h - h * k / 4;
      svg('line', { x1: x0, y1: y, x2: x0 + w, y2: y, stroke: '#eef0f4' }, root);
      svg('text', { x: x0 - 5, y: y + 4, 'text-anchor': 'end' }, root, yfmt(v));
    }
  }

  function barChart(box, title, labels, values, colours, yfmt, vfmt, width) {
    var W = width || 540, H = 230, x0 = 62, y0 = 26, w = W - x0 - 12, h = H - y0 - 34;
    var ymax = Math.max.apply(null, values.concat([1]));
    var positive = values.filter(function (v) { return v > 0; });
    var ymin = positive.length ? Math.min.apply(null, positive) : 1;
    // One huge first pass hides the rest on a linear axis: a log axis when the values span more than 50x.
    var log = ymax / ymin > 50;
    var root = svg('svg', { width: W, height: H, role: 'img', 'aria-label': title }, box);
    svg('text', { x: x0, y: 15, 'class': 't' }, root, title + (log ? ' (log scale)' : ''));
    var top = log ? Math.log10(ymax) + 0.05 : ymax;
    function scale(v) { return log ? (v >= 1 ? h * Math.log10(v) / top : 0) : h * v / ymax; }
    svg('line', { x1: x0, y1: y0 + h, x2: x0 + w, y2: y0 + h, stroke: '#9aa6b8' }, root);
    svg('line', { x1: x0, y1: y0, x2: x0, y2: y0 + h, stroke: '#9aa6b8' }, root);
    var ticks = log ? [] : [0, 0.25, 0.5, 0.75, 1].map(function (f) { return ymax * f; });
    if (log) { for (var p = 0; p <= Math.floor(top); p++) { ticks.push(Math.pow(10, p)); } }
    ticks.forEach(function (v) {
      var y = y0 + h - scale(v);
      svg('line', { x1: x0, y1: y, x2: x0 + w, y2: y, stroke: '#eef0f4' }, root);
      svg('text', { x: x0 - 5, y: y + 4, 'text-anchor': 'end' }, root, yfmt(v));
    });
    var n = values.length, bw = w / Math.max(n, 1);
    for (var i = 0; i < n; i++) {
      var bh = scale(values[i]), bx = x0 + i * bw + bw * 0.12;
      var r = svg('rect', { x: bx, y: y0 + h - bh, width: Math.max(1, bw * 0.76), height: Math.max(values[i] > 0 ? 1 : 0, bh), fill: colours[i] }, root);
      svg('title', {}, r, labels[i] + ': ' + vfmt(values[i]));
      if (bw >= 34) {
        svg('text', { x: bx + bw * 0.38, y: y0 + h - bh - 3, 'text-anchor': 'middle', 'class': 'v' }, root, vfmt(values[i]));
      }
      if (n <= 30 || i % Math.ceil(n / 30) === 0) {
        svg('text', { x: bx + bw * 0.38, y: y0 + h + 14, 'text-anchor': 'middle' }, root, labels[i]);
      }
    }
    return root;
  }

  function lineChart(box, title, series, xfmt, yfmt, markers, width) {
    var W = width || 1080, H = 250, x0 = 70, y0 = 26, w = W - x0 - 130, h = H - y0 - 36;
    var root = svg('svg', { width: W, height: H, role: 'img', 'aria-label': title }, box);
    svg('text', { x: x0, y: 15, 'class': 't' }, root, title);
    var xmax = 1, ymax = 1;
    series.forEach(function (s) { s.pts.forEach(function (p) { xmax = Math.max(xmax, p[0]); ymax = Math.max(ymax, p[1]); }); });
    axes(root, x0, y0, w, h, ymax, yfmt);
    for (var k = 0; k <= 5; k++) {
      svg('text', { x: x0 + w * k / 5, y: y0 + h + 15, 'text-anchor': 'middle' }, root, xfmt(xmax * k / 5));
    }
    (markers || []).forEach(function (m) {
      var mx = x0 + w * m[0] / xmax;
      svg('line', { x1: mx, y1: y0, x2: mx, y2: y0 + h, stroke: '#b3261e', 'stroke-dasharray': '3,3' }, root);
      var t = svg('circle', { cx: mx, cy: y0 + 4, r: 3.5, fill: '#b3261e' }, root);
      svg('title', {}, t, m[1]);
    });
    series.forEach(function (s, si) {
      if (s.pts.length === 0) { return; }
      var d = s.pts.map(function (p, i) { return (i ? 'L' : 'M') + (x0 + w * p[0] / xmax).toFixed(1) + ',' + (y0 + h - h * p[1] / ymax).toFixed(1); }).join('');
      svg('path', { d: d, fill: 'none', stroke: s.colour, 'stroke-width': 1.8 }, root);
      svg('rect', { x: x0 + w + 12, y: y0 + si * 18, width: 12, height: 3, fill: s.colour }, root);
      svg('text', { x: x0 + w + 30, y: y0 + si * 18 + 5 }, root, s.name);
    });
    return root;
  }

  function drawPasses(s) {
    var box = document.getElementById(s.id + '-passplot');
    if (!box || s.passes.length === 0) { return; }
    var kindColour = { live: '#4c78c8', 'final (suspended)': '#d6453d', verify: '#555', checkpoint: '#8e5ec9', 'post-copy': '#ef6c00', 'single (not live)': '#4c78c8' };
    var labels = s.passes.map(function (p) { return String(p.index); });
    var cols = s.passes.map(function (p) { return kindColour[p.kind] || '#4c78c8'; });
    barChart(box, 'Pages per pass (blue: live, red: final, grey: verify)', labels, s.passes.map(function (p) { return p.pages; }), cols, short, fmt);
    barChart(box, 'Bytes per pass', labels, s.passes.map(function (p) { return p.bytes; }), cols, size, size);
  }

  function drawCheckpoints(s) {
    var box = document.getElementById(s.id + '-cpplot');
    if (!box || s.checkpoints.length === 0) { return; }
    var labels = s.checkpoints.map(function (c) { return String(c.index); });
    var cols = s.checkpoints.map(function (c) { return c.complete ? '#8e5ec9' : '#d6453d'; });
    var wide = Math.min(1080, Math.max(540, s.checkpoints.length * 40));
    barChart(box, 'Bytes per checkpoint (red: discarded at failover)', labels, s.checkpoints.map(function (c) { return c.bytes; }), cols, size, size, wide);
    barChart(box, 'Pages per checkpoint', labels, s.checkpoints.map(function (c) { return c.pages; }), cols, short, fmt, wide);
  }

  // The checkpoint timeline: each checkpoint a span of the main stream, the back channel's messages as marks beside
  // them. In a capture both directions share the arrival clock (x is time); elsewhere x is the main stream's offset
  // and back-channel messages, which live in another stream, are not placed.
  function backKey(m) {
    var f = String(m[3] || '');
    // A CHECKPOINT_STATE's control id names the step (SvmReady, SvmResumed, ...): one colour per step.
    var st = /(?:^|\s)control_id=\S+ \((\w+)\)/.exec(f);
    return st ? m[2] + ' ' + st[1] : m[2];
  }
  function drawTimeline(s) {
    var box = document.getElementById(s.id + '-cptimeline');
    if (!box || s.checkpoints.length === 0) { return; }
    var timed = s.checkpoints.every(function (c) { return c.start_ns >= 0; });
    var back = timed ? s.back.filter(function (m) { return m[1] >= 0; }) : [];
    var W = 1080, x0 = 110, w = W - x0 - 20, laneH = 34, y1 = 28, y2 = y1 + laneH + 14, H = y2 + laneH + 34;
    var cs = s.checkpoints;
    var lo = timed ? cs[0].start_ns : cs[0].offset;
    var hi = lo + 1;
    cs.forEach(function (c) { hi = Math.max(hi, timed ? c.end_ns : c.offset + c.bytes); });
    back.forEach(function (m) { lo = Math.min(lo, m[1]); hi = Math.max(hi, m[1]); });
    if (hi <= lo) { hi = lo + 1; }
    function X(v) { return x0 + w * (v - lo) / (hi - lo); }
    function xl(v) { return timed ? (v / 1e6).toFixed(v - lo < 1e7 ? 2 : 0) + ' ms' : size(v); }
    var root = svg('svg', { width: W, height: H, role: 'img', 'aria-label': 'Checkpoint timeline', 'data-figure': 'timeline',
      'data-checkpoints': String(cs.length), 'data-back-marks': String(back.length), 'data-axis': timed ? 'time' : 'offset' }, box);
    svg('text', { x: x0, y: 15, 'class': 't' }, root, 'Checkpoint timeline (' + (timed ? 'capture arrival time' : 'main-stream offset') + ')');
    svg('text', { x: x0 - 8, y: y1 + laneH / 2 + 4, 'text-anchor': 'end' }, root, 'main stream');
    svg('text', { x: x0 - 8, y: y2 + laneH / 2 + 4, 'text-anchor': 'end' }, root, 'back channel');
    svg('line', { x1: x0, y1: y2 + laneH / 2, x2: x0 + w, y2: y2 + laneH / 2, stroke: '#d6dbe3' }, root);
    cs.forEach(function (c, i) {
      var a = timed ? c.start_ns : c.offset, b = timed ? c.end_ns : c.offset + c.bytes;
      var xa = X(a), wd = Math.max(2, X(b) - xa);
      var fill = c.complete ? (i % 2 ? '#b597e0' : '#8e5ec9') : '#d6453d';
      var r = svg('rect', { x: xa, y: y1, width: wd, height: laneH, fill: fill, 'class': 'cp', 'data-checkpoint': String(c.index) }, root);
      svg('title', {}, r, 'checkpoint ' + c.index + (c.complete ? '' : ' (incomplete: discarded at failover)') + ': ' + size(c.bytes) + ', ' + fmt(c.pages) + ' pages, from ' + xl(a));
      if (wd >= 18) { svg('text', { x: xa + wd / 2, y: y1 + laneH / 2 + 4, 'text-anchor': 'middle', fill: '#fff' }, root, String(c.index)); }
      if (!c.complete) {
        svg('line', { x1: xa, y1: y1 - 6, x2: xa, y2: y2 + laneH + 4, stroke: '#d6453d', 'stroke-dasharray': '4 3' }, root);
        svg('text', { x: xa + 3, y: y2 + laneH + 16, fill: '#d6453d' }, root, 'failover: ' + size(s.discarded) + ' discarded, resume from checkpoint ' + (c.index - 1));
      }
    });
    var keys = [];
    back.forEach(function (m) {
      var k = backKey(m), x = X(m[1]);
      if (keys.indexOf(k) < 0) { keys.push(k); }
      var g = svg('g', { 'class': 'bm', 'data-type': m[2] }, root);
      svg('line', { x1: x, y1: y2 + 4, x2: x, y2: y2 + laneH - 4, stroke: colour(k), 'stroke-width': 2 }, g);
      svg('circle', { cx: x, cy: y2 + laneH / 2, r: 3.5, fill: colour(k) }, g);
      svg('title', {}, g, k + ' at ' + xl(m[1]) + ' (back-channel offset ' + fmt(m[0]) + ')' + (m[3] ? ': ' + m[3] : ''));
    });
    svg('line', { x1: x0, y1: H - 22, x2: x0 + w, y2: H - 22, stroke: '#9aa6b8' }, root);
    [0, 0.25, 0.5, 0.75, 1].forEach(function (f) {
      var v = lo + (hi - lo) * f;
      svg('text', { x: X(v), y: H - 8, 'text-anchor': f === 0 ? 'start' : (f === 1 ? 'end' : 'middle') }, root, xl(v));
    });
    if (keys.length > 0) {
      var lg = html('div', { 'class': 'legend' }, box);
      keys.forEach(function (k) {
        var it = html('span', {}, lg);
        html('span', { 'class': 'sw', style: 'background:' + colour(k) }, it);
        it.appendChild(document.createTextNode(k));
      });
    } else if (!timed && s.back.length === 0) {
      html('p', { 'class': 'note' }, box, 'Back-channel messages are drawn beside the checkpoints for a capture, whose two directions share one clock; a stream file alone has no back channel.');
    }
  }

  function drawPostcopy(s) {
    var box = document.getElementById(s.id + '-postcopyplot');
    if (!box || !s.postcopy || s.postcopy.progress.length === 0) { return; }
    lineChart(box, 'Background pages over the post-copy phase (cumulative, by stream offset)', [{ name: 'pages', colour: '#ef6c00', pts: s.postcopy.progress }], size, short, []);
  }

  function drawCapture(c) {
    var box = document.getElementById('capplot');
    if (!box) { return; }
    var secs = c.bin / 1e9;
    var markers = c.events.map(function (e) { return [e[0] / 1e9, e[1]]; });
    var colours = { s2r: '#4c78c8', r2s: '#d6453d' };
    c.profiles.forEach(function (p) {
      var pts = p.bins.map(function (b, i) { return [(i + 0.5) * secs, b / secs]; });
      lineChart(box, 'Throughput ' + p.direction + ' (bytes/s)', [{ name: p.direction, colour: colours[p.direction] || '#333', pts: pts }],
        function (v) { return v.toFixed(v < 10 ? 2 : 0) + ' s'; }, function (v) { return size(v) + '/s'; }, markers);
    });
  }

  function drawDiffPages(d) {
    var box = document.getElementById('diffpages');
    if (!box || d.pages.ranges.length === 0) { return; }
    var W = 1080, x0 = 70, w = W - x0 - 20, H = 54;
    var root = svg('svg', { width: W, height: H, role: 'img', 'aria-label': 'differing pfns' }, box);
    var max = 1;
    d.pages.ranges.forEach(function (r) { max = Math.max(max, r.last + 1); });
    svg('rect', { x: x0, y: 8, width: w, height: 22, fill: '#e3f4e8' }, root);
    var cols = { differ: '#d6453d', 'only in A': '#8a1c1c', 'only in B': '#1c5b8a' };
    d.pages.ranges.forEach(function (r) {
      var rr = svg('rect', { x: x0 + w * r.first / max, y: 8, width: Math.max(1, w * r.count / max), height: 22, fill: cols[r.kind] || '#d6453d' }, root);
      svg('title', {}, rr, 'pfn 0x' + r.first.toString(16) + '..0x' + r.last.toString(16) + ' (' + r.count + ' pages) ' + r.kind);
    });
    svg('text', { x: x0 - 6, y: 24, 'text-anchor': 'end' }, root, 'pfns');
    svg('text', { x: x0, y: 45 }, root, '0');
    svg('text', { x: x0 + w, y: 45, 'text-anchor': 'end' }, root, '0x' + max.toString(16));
  }

  function drawFuzz(cs) {
    var colours = ['#4c78c8', '#d6453d', '#3a9d5d', '#8e5ec9', '#ef6c00', '#2aa198', '#9c7b2b', '#555'];
    cs.forEach(function (c, i) {
      var e = document.getElementById('fuzz' + i + '-execs'), g = document.getElementById('fuzz' + i + '-edges');
      var tfmt = function (v) { return v >= 3600 ? (v / 3600).toFixed(1) + ' h' : v >= 60 ? (v / 60).toFixed(0) + ' min' : v.toFixed(0) + ' s'; };
      if (e) {
        lineChart(e, c.target + ': total executions', c.instances.map(function (s, k) { return { name: s.name, colour: colours[k % colours.length], pts: s.points.map(function (p) { return [p[0], p[1]]; }) }; }), tfmt, short, []);
      }
      if (g) {
        lineChart(g, c.target + ': edges found', c.instances.map(function (s, k) { return { name: s.name, colour: colours[k % colours.length], pts: s.points.map(function (p) { return [p[0], p[2]]; }) }; }), tfmt, short, []);
      }
    });
  }

  function wireLinks() {
    document.addEventListener('click', function (ev) {
      var a = ev.target && ev.target.closest ? ev.target.closest('a[data-stream]') : null;
      if (!a) { return; }
      var s = streams[a.getAttribute('data-stream')];
      if (!s) { return; }
      var rec = a.hasAttribute('data-record') ? Number(a.getAttribute('data-record')) : -1;
      var off = a.hasAttribute('data-offset') ? Number(a.getAttribute('data-offset')) : -1;
      var i = findSegment(s, rec, off);
      if (i >= 0) { showSegment(s, i); }
    });
    document.querySelectorAll('.sw[data-type]').forEach(function (e) { e.style.background = colour(e.getAttribute('data-type')); });
  }

  function run() {
    D.streams.forEach(function (s) {
      streams[s.id] = s;
      drawMap(s);
      drawPasses(s);
      drawCheckpoints(s);
      drawTimeline(s);
      drawPostcopy(s);
    });
    if (D.capture) { drawCapture(D.capture); }
    if (D.diff) { drawDiffPages(D.diff); }
    if (D.campaigns) { drawFuzz(D.campaigns); }
    wireLinks();
    if (errors.length === 0) { document.body.setAttribute('data-rendered', 'ok'); }
  }

  try { run(); } catch (e) { fail(e && e.stack ? e.stack : e); }
})();
