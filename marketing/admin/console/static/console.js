// The staff console's one script: plain JavaScript, no build step. It changes nothing by
// itself: every change is a call to the JSON API (/admin/v1), made with the session
// cookie and the session's CSRF token from <meta name="csrf-token">. The pages run under a
// strict Content-Security-Policy, so nothing here is inline in the HTML.
'use strict';

(function () {
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || '';

  // api calls the JSON API and resolves to {ok, status, data}; data is the parsed body,
  // for an error the API's {code, message, field, ...}. body is sent as JSON, unless
  // contentType is given: then it goes as it is (a file to import).
  function api(method, path, body, contentType) {
    var opts = {
      method: method,
      credentials: 'same-origin',
      headers: { 'Accept': 'application/json', 'X-CSRF-Token': csrf }
    };
    if (contentType) {
      opts.headers['Content-Type'] = contentType;
      opts.body = body;
    } else if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    return fetch(path, opts).then(function (resp) {
      return resp.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (!resp.ok && (!data || !data.message)) {
          data = { code: 'http_' + resp.status, message: 'The server answered ' + resp.status + '.' };
        }
        return { ok: resp.ok, status: resp.status, data: data };
      });
    }, function () {
      return { ok: false, status: 0, data: { code: 'network', message: 'The server could not be reached.' } };
    });
  }

  function $(id) { return document.getElementById(id); }

  function show(el, text) {
    if (!el) return;
    el.textContent = text;
    el.hidden = !text;
  }

  // list splits a field of values separated by commas or line breaks.
  function list(value) {
    return value.split(/[\n,]+/).map(function (s) { return s.trim(); }).filter(Boolean);
  }

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  // ---- the campaign form -------------------------------------------------------------

  function audienceOf() {
    var aud = {};
    var ids = list($('merchant-ids').value);
    if (ids.length) aud.merchant_ids = ids;
    var seg = {};
    [['cities', 'segment-cities'], ['categories', 'segment-categories'], ['tags', 'segment-tags']].forEach(function (f) {
      var v = list($(f[1]).value);
      if (v.length) seg[f[0]] = v;
    });
    if (Object.keys(seg).length) aud.segment = seg;
    return aud;
  }

  function specOf() {
    var spec = {
      name: $('campaign-name').value.trim(),
      audience: audienceOf(),
      message: { title: $('message-title').value, body: $('message-body').value, action: null }
    };
    var label = $('action-label').value, type = $('action-type').value, target = $('action-target').value.trim();
    if (label || type || target) {
      spec.message.action = { label: label, type: type };
      if (target) spec.message.action.target = target;
    }
    var at = $('send-at').value;
    if (at) {
      var d = new Date(at); // the browser's local time
      spec.send_at = isNaN(d.getTime()) ? at : d.toISOString();
    }
    var rate = $('rate').value.trim();
    if (rate) {
      var n = Number(rate);
      spec.rate = isFinite(n) ? n : rate;
    }
    return spec;
  }

  // markField shows an error next to the input the API named (its field path, or the
  // nearest enclosing one: "audience.merchant_ids[2]" marks the merchant ids).
  function markField(form, field) {
    form.querySelectorAll('.invalid').forEach(function (el) {
      el.classList.remove('invalid');
      el.removeAttribute('aria-invalid');
    });
    if (!field) return;
    var path = field;
    while (path) {
      var el = form.querySelector('[data-field="' + path.replace(/["\\]/g, '') + '"]');
      if (el) {
        el.classList.add('invalid');
        el.setAttribute('aria-invalid', 'true');
        el.focus();
        return;
      }
      var cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
      path = cut > 0 ? path.slice(0, cut) : '';
    }
  }

  function pad(n) { return (n < 10 ? '0' : '') + n; }

  // localInput formats an RFC 3339 time for a datetime-local input, in the browser's zone.
  function localInput(rfc3339) {
    var d = new Date(rfc3339);
    if (isNaN(d.getTime())) return '';
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + 'T' +
      pad(d.getHours()) + ':' + pad(d.getMinutes());
  }

  function editPage() {
    var form = $('campaign-form');
    var id = form.dataset.campaignId;
    var editable = form.dataset.editable === 'true';
    var sendAt = $('send-at');
    if (sendAt.dataset.value) sendAt.value = localInput(sendAt.dataset.value);

    var count = $('audience-count');
    var asked = 0;
    var recount = function () {
      var seq = ++asked;
      var aud = audienceOf();
      if (!aud.merchant_ids && !aud.segment) {
        count.textContent = 'nobody yet';
        return;
      }
      count.textContent = 'counting…';
      api('POST', '/admin/v1/audience/count', aud).then(function (r) {
        if (seq !== asked) return; // a later count is on its way
        if (r.ok) {
          count.textContent = r.data.count + (r.data.count === 1 ? ' merchant' : ' merchants');
          count.classList.remove('problem-text');
        } else {
          count.textContent = r.data.message;
          count.classList.add('problem-text');
        }
      });
    };
    if (editable) {
      $('audience').addEventListener('input', debounce(recount, 300));
      recount();
    }

    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      if (!editable) return;
      var save = $('save');
      save.disabled = true;
      show($('form-error'), '');
      $('save-status').textContent = 'Saving…';
      var req = id ? api('PUT', '/admin/v1/campaigns/' + encodeURIComponent(id), specOf())
        : api('POST', '/admin/v1/campaigns', specOf());
      req.then(function (r) {
        save.disabled = false;
        if (!r.ok) {
          $('save-status').textContent = '';
          show($('form-error'), r.data.message);
          markField(form, r.data.field);
          return;
        }
        markField(form, '');
        if (!id) {
          window.location.assign('/admin/console/campaigns/' + encodeURIComponent(r.data.id) + '/edit');
          return;
        }
        $('save-status').textContent = 'Saved at ' + new Date().toLocaleTimeString() + '.';
      });
    });

    var preview = $('preview-form');
    if (preview) {
      preview.addEventListener('submit', function (ev) {
        ev.preventDefault();
        show($('preview-error'), '');
        $('preview-result').hidden = true;
        api('POST', '/admin/v1/campaigns/' + encodeURIComponent(preview.dataset.campaignId) + '/preview',
          { merchant_id: $('preview-merchant').value.trim() }).then(function (r) {
          if (!r.ok) {
            show($('preview-error'), r.data.message);
            return;
          }
          $('preview-title').textContent = r.data.title;
          $('preview-body').textContent = r.data.body;
          var action = $('preview-action');
          if (r.data.action) {
            action.textContent = r.data.action.label;
            action.title = r.data.action.method + ' ' + r.data.action.path;
          }
          action.hidden = !r.data.action;
          $('preview-result').hidden = false;
        });
      });
    }
  }

  // confirmThen asks the question in the page's confirmation dialog and calls yes when
  // the answer is yes; the dialog's yes button is labelled as the button that asked.
  function confirmThen(question, label, yes) {
    var dialog = $('confirm-dialog');
    $('confirm-text').textContent = question;
    $('confirm-yes').textContent = label;
    // Properties, not listeners: each question replaces the last one's answers, also when
    // that dialog was closed with Escape.
    $('confirm-yes').onclick = function () { dialog.close(); yes(); };
    $('confirm-no').onclick = function () { dialog.close(); };
    dialog.showModal();
    $('confirm-no').focus();
  }

  // ---- one campaign's page -----------------------------------------------------------

  var SERIES = ['sent', 'delivered', 'read', 'clicked'];
  var SVG = 'http://www.w3.org/2000/svg';

  function svgEl(name, attrs) {
    var el = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    return el;
  }

  // drawChart draws the samples' counters over time into the SVG: one line per series,
  // the time on x, the count on y (up to the targeted count or the largest sample).
  function drawChart(svg, points, targeted) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var W = 600, H = 220, L = 48, R = 10, T = 10, B = 24;
    var top = targeted || 0;
    points.forEach(function (p) { SERIES.forEach(function (s) { top = Math.max(top, p[s] || 0); }); });
    if (top === 0) top = 1;
    svg.appendChild(svgEl('line', { 'class': 'axis', x1: L, y1: H - B, x2: W - R, y2: H - B }));
    svg.appendChild(svgEl('line', { 'class': 'axis', x1: L, y1: T, x2: L, y2: H - B }));
    var label = function (x, y, text, cls) {
      var t = svgEl('text', { x: x, y: y, 'class': cls });
      t.textContent = text;
      svg.appendChild(t);
    };
    label(L - 6, T + 8, String(top), 'tick tick-y');
    label(L - 6, H - B, '0', 'tick tick-y');
    if (points.length === 0) {
      label(W / 2, H / 2, 'No samples yet', 'tick empty');
      return;
    }
    var t0 = Date.parse(points[0].at), t1 = Date.parse(points[points.length - 1].at);
    var span = Math.max(t1 - t0, 1);
    var x = function (p) { return points.length === 1 ? L : L + (Date.parse(p.at) - t0) / span * (W - L - R); };
    var y = function (v) { return H - B - (v / top) * (H - B - T); };
    label(L, H - 6, new Date(t0).toLocaleTimeString(), 'tick tick-x-start');
    label(W - R, H - 6, new Date(t1).toLocaleTimeString(), 'tick tick-x-end');
    SERIES.forEach(function (s) {
      var pts = points.map(function (p) { return x(p).toFixed(1) + ',' + y(p[s] || 0).toFixed(1); }).join(' ');
      svg.appendChild(svgEl('polyline', { 'class': 'line series-' + s, points: pts, 'data-series': s }));
    });
  }

  function percent(part, whole) {
    return whole > 0 ? (part * 100 / whole).toFixed(1) + '%' : '0%';
  }

  function showStats(c) {
    var st = c.stats || {};
    ['targeted', 'sent', 'delivered', 'read', 'clicked', 'failed', 'skipped', 'pending'].forEach(function (k) {
      var el = $('stat-' + k);
      if (el) el.textContent = String(st[k] || 0);
    });
    $('stat-rate').textContent = (st.rate || 0).toFixed(1);
    $('progress-percent').textContent = percent(st.sent || 0, st.targeted || 0);
    var meter = $('progress-meter');
    meter.max = st.targeted || 0;
    meter.value = st.sent || 0;
  }

  function campaignPage() {
    var root = $('campaign');
    var id = root.dataset.campaignId;
    var state = root.dataset.state;
    var base = '/admin/v1/campaigns/' + encodeURIComponent(id);
    var svg = $('progress-chart');
    var targeted = Number($('stat-targeted').textContent) || 0;
    var status = $('chart-status');

    // The samples drawn so far; each poll asks only for those taken since the newest
    // (the API answers samples at or after a time, so that one comes again and is dropped).
    var points = [];
    var refreshChart = function () {
      var last = points.length ? points[points.length - 1].at : '';
      return api('GET', base + '/progress' + (last ? '?since=' + encodeURIComponent(last) : '')).then(function (r) {
        if (!r.ok) {
          status.textContent = r.data.message;
          return;
        }
        status.textContent = '';
        (r.data.points || []).forEach(function (p) {
          if (!last || Date.parse(p.at) > Date.parse(last)) points.push(p);
        });
        drawChart(svg, points, targeted);
      });
    };

    // While the campaign runs (or waits for its send time), poll its stats and samples;
    // when its state changes, reload the page for the buttons that state allows.
    var poll = function () {
      api('GET', base).then(function (r) {
        if (r.ok) {
          targeted = (r.data.stats && r.data.stats.targeted) || 0;
          showStats(r.data);
          if (r.data.state !== state) {
            window.location.reload();
            return;
          }
        }
        refreshChart().then(function () { setTimeout(poll, 1500); });
      });
    };
    if (root.dataset.live === 'true') {
      poll();
    } else {
      refreshChart();
    }

    // act makes the state change a button names.
    var act = function (btn) {
      var action = btn.dataset.action;
      var body = {};
      if (action === 'pause' && $('pause-reason').value.trim()) body.reason = $('pause-reason').value.trim();
      btn.disabled = true;
      show($('action-error'), '');
      api('POST', base + '/' + action, body).then(function (r) {
        btn.disabled = false;
        if (!r.ok) {
          show($('action-error'), r.data.message);
          return;
        }
        window.location.reload();
      });
    };

    document.querySelectorAll('button[data-action]').forEach(function (btn) {
      btn.addEventListener('click', function () {
        if (btn.dataset.confirm) {
          confirmThen(btn.dataset.confirm, btn.textContent, function () { act(btn); });
          return;
        }
        act(btn);
      });
    });

    var del = $('delete-campaign');
    if (del) {
      del.addEventListener('click', function () {
        confirmThen(del.dataset.confirm, del.textContent, function () {
          show($('delete-error'), '');
          api('DELETE', base).then(function (r) {
            if (!r.ok) {
              show($('delete-error'), r.data.message);
              return;
            }
            window.location.assign('/admin/console/campaigns');
          });
        });
      });
    }

    // Duplicate: the same audience, message and rate cap as a new draft (without the send
    // time, which may have passed), opened for editing.
    var dup = $('duplicate');
    if (dup) {
      dup.addEventListener('click', function () {
        dup.disabled = true;
        show($('duplicate-error'), '');
        api('GET', base).then(function (r) {
          if (!r.ok) return r;
          var c = r.data;
          return api('POST', '/admin/v1/campaigns', {
            name: (c.name + ' (copy)').slice(0, 200), audience: c.audience, message: c.message, rate: c.rate
          });
        }).then(function (r) {
          dup.disabled = false;
          if (!r.ok) {
            show($('duplicate-error'), r.data.message);
            return;
          }
          window.location.assign('/admin/console/campaigns/' + encodeURIComponent(r.data.id) + '/edit');
        });
      });
    }

    var test = $('test-form');
    if (test) {
      test.addEventListener('submit', function (ev) {
        ev.preventDefault();
        show($('test-error'), '');
        var out = $('test-results');
        while (out.firstChild) out.removeChild(out.firstChild);
        api('POST', base + '/test', { merchant_ids: list($('test-merchants').value) }).then(function (r) {
          if (!r.ok) {
            show($('test-error'), r.data.message);
            return;
          }
          (r.data.results || []).forEach(function (res) {
            var li = document.createElement('li');
            li.textContent = res.merchant_id + ': ' + (res.error ? 'failed: ' + res.error
              : 'sent (' + res.online_devices + ' device' + (res.online_devices === 1 ? '' : 's') + ' online)');
            if (res.error) li.className = 'problem-text';
            out.appendChild(li);
          });
        });
      });
    }
  }

  // ---- the campaign list -------------------------------------------------------------

  // While a campaign on the page is running or scheduled, the list reads its page again
  // every 3 s and updates each row's state, progress and rate.
  function campaignsPage() {
    var table = $('campaigns');
    if (!table) return;
    var live = function () {
      return table.querySelector('tr[data-state="running"], tr[data-state="scheduled"]') !== null;
    };
    if (!live()) return;
    var q = '?limit=' + table.querySelectorAll('tr[data-campaign-id]').length;
    if (table.dataset.after) q += '&after=' + encodeURIComponent(table.dataset.after);
    if (table.dataset.state) q += '&state=' + encodeURIComponent(table.dataset.state);
    var poll = function () {
      api('GET', '/admin/v1/campaigns' + q).then(function (r) {
        if (r.ok) (r.data.campaigns || []).forEach(updateRow);
        if (live()) setTimeout(poll, 3000);
      });
    };
    setTimeout(poll, 3000);
  }

  function updateRow(c) {
    var row = document.querySelector('tr[data-campaign-id="' + c.id.replace(/["\\]/g, '') + '"]');
    if (!row) return;
    var st = c.stats || {};
    row.dataset.state = c.state;
    var badge = row.querySelector('.state');
    badge.textContent = c.state;
    badge.className = 'state state-' + c.state;
    var cell = row.querySelector('.progress-cell');
    if (st.targeted) {
      while (cell.firstChild) cell.removeChild(cell.firstChild);
      var meter = document.createElement('meter');
      meter.min = 0;
      meter.max = st.targeted;
      meter.value = st.sent || 0;
      var text = document.createElement('span');
      text.className = 'progress-text';
      text.textContent = (st.sent || 0) + '/' + st.targeted + ' (' + percent(st.sent || 0, st.targeted) + ')';
      cell.appendChild(meter);
      cell.appendChild(document.createTextNode(' '));
      cell.appendChild(text);
    }
    row.querySelector('.rate-now').textContent = (st.rate || 0).toFixed(1);
  }

  // ---- merchants: the import -----------------------------------------------------------

  // importType is the media type the import route reads a file as, from its name.
  function importType(file) {
    return /\.(ndjson|jsonl)$/i.test(file.name) ? 'application/x-ndjson' : 'text/csv';
  }

  function cell(text) {
    var td = document.createElement('td');
    td.textContent = text;
    return td;
  }

  function merchantsPage() {
    var form = $('import-form');
    if (!form) return; // a role that may not import
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var file = $('import-file').files[0];
      show($('import-error'), '');
      if (!file) {
        show($('import-error'), 'Choose a file to import.');
        return;
      }
      var submit = $('import-submit');
      submit.disabled = true;
      $('import-status').textContent = 'Importing ' + file.name + '…';
      $('import-report').hidden = true;
      // The file is the body as it is: the server reads it as a stream.
      api('POST', '/admin/v1/merchants/import', file, importType(file)).then(function (r) {
        submit.disabled = false;
        $('import-status').textContent = '';
        if (!r.ok) {
          show($('import-error'), r.data.message + (r.data.field ? ' (' + r.data.field + ')' : ''));
          return;
        }
        showImport(r.data);
      });
    });
  }

  // showImport fills the import's report: its totals, and a row per rejected line.
  function showImport(rep) {
    $('import-rows').textContent = String(rep.rows);
    $('import-created').textContent = String(rep.created);
    $('import-updated').textContent = String(rep.updated);
    $('import-rejected').textContent = String(rep.rejected);
    var table = $('import-errors');
    var body = table.querySelector('tbody');
    while (body.firstChild) body.removeChild(body.firstChild);
    (rep.errors || []).forEach(function (e) {
      var tr = document.createElement('tr');
      tr.dataset.testid = 'import-error-row';
      [String(e.line), e.id || '', e.field, e.message].forEach(function (t) { tr.appendChild(cell(t)); });
      body.appendChild(tr);
    });
    table.hidden = !(rep.errors && rep.errors.length);
    $('import-truncated').hidden = !rep.errors_truncated;
    $('import-report').hidden = false;
    $('import-status').textContent = 'Imported at ' + new Date().toLocaleTimeString() + '. The list below shows the merchants when the page is reloaded.';
  }

  // ---- one merchant --------------------------------------------------------------------

  function merchantPage() {
    var form = $('merchant-form');
    var id = form.dataset.merchantId;
    var isNew = form.dataset.new === 'true';
    var path = function (suffix) { return '/admin/v1/merchants/' + encodeURIComponent(id) + (suffix || ''); };
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var save = $('merchant-save');
      if (!save) return; // a role that may not change merchants
      var m = {
        name: $('merchant-name').value.trim(),
        city: $('merchant-city').value.trim(),
        category: $('merchant-category').value.trim(),
        tags: list($('merchant-tags').value)
      };
      if (isNew) m.id = $('merchant-id').value.trim();
      save.disabled = true;
      show($('merchant-error'), '');
      $('merchant-status').textContent = 'Saving…';
      (isNew ? api('POST', '/admin/v1/merchants', m) : api('PUT', path(), m)).then(function (r) {
        save.disabled = false;
        $('merchant-status').textContent = '';
        if (!r.ok) {
          show($('merchant-error'), r.data.message);
          markField(form, r.data.field);
          return;
        }
        markField(form, '');
        if (isNew) {
          window.location.assign('/admin/console/merchants/' + encodeURIComponent(r.data.id));
          return;
        }
        $('merchant-status').textContent = 'Saved at ' + new Date().toLocaleTimeString() + '.';
      });
    });
    var failed = function (r) {
      if (r.ok) return false;
      show($('merchant-action-error'), r.data.message);
      return true;
    };
    var del = $('delete-merchant');
    if (del) {
      del.addEventListener('click', function () {
        confirmThen(del.dataset.confirm, del.textContent, function () {
          show($('merchant-action-error'), '');
          api('DELETE', path()).then(function (r) {
            if (!failed(r)) window.location.assign('/admin/console/merchants');
          });
        });
      });
    }
    var end = $('end-sessions');
    if (end) {
      end.addEventListener('click', function () {
        confirmThen(end.dataset.confirm, end.textContent, function () {
          show($('merchant-action-error'), '');
          api('POST', path('/revoke-sessions')).then(function (r) {
            if (failed(r)) return;
            var n = r.data.im_sessions_closed;
            $('merchant-action-result').textContent = 'Its sessions are ended: ' + n + ' live IM session' +
              (n === 1 ? '' : 's') + ' closed.';
          });
        });
      });
    }
  }

  // ---- staff keys --------------------------------------------------------------------

  function keysPage() {
    var form = $('key-form');
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      show($('key-error'), '');
      $('new-secret').hidden = true;
      var btn = $('create-key');
      btn.disabled = true;
      api('POST', '/admin/v1/keys', { name: $('key-name').value.trim(), role: $('key-role').value }).then(function (r) {
        btn.disabled = false;
        if (!r.ok) {
          show($('key-error'), r.data.message);
          markField(form, r.data.field);
          return;
        }
        markField(form, '');
        $('new-secret-name').textContent = r.data.key.name;
        $('new-secret-value').textContent = r.data.secret;
        $('new-secret').hidden = false;
        addKeyRow(r.data.key);
      });
    });
    document.querySelectorAll('button.revoke').forEach(function (btn) {
      btn.addEventListener('click', function () {
        confirmThen(btn.dataset.confirm, btn.textContent, function () {
          btn.disabled = true;
          show($('revoke-error'), '');
          api('DELETE', '/admin/v1/keys/' + encodeURIComponent(btn.dataset.keyId)).then(function (r) {
            btn.disabled = false;
            if (!r.ok) {
              show($('revoke-error'), r.data.message);
              return;
            }
            window.location.reload();
          });
        });
      });
    });
  }

  // addKeyRow shows a key just created at the end of the list (the page shows it from the
  // store on the next load; its secret is never in the list).
  function addKeyRow(k) {
    var table = $('keys');
    if (!table) return;
    var tr = document.createElement('tr');
    tr.id = k.id;
    tr.dataset.testid = 'key-row';
    tr.dataset.keyId = k.id;
    [k.name + ' ' + k.id, k.role, k.prefix + '…', new Date(k.created_at).toISOString(), k.created_by, 'active', '']
      .forEach(function (t) { tr.appendChild(cell(t)); });
    var none = $('no-keys');
    if (none) none.parentNode.removeChild(none);
    table.querySelector('tbody').appendChild(tr);
  }

  function start() {
    var page = document.body.dataset.page;
    if (page === 'edit') editPage();
    if (page === 'campaign') campaignPage();
    if (page === 'campaigns') campaignsPage();
    if (page === 'merchants') merchantsPage();
    if (page === 'merchant') merchantPage();
    if (page === 'keys') keysPage();
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
