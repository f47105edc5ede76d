// Slipstream fleet status page: polls /api/status every POLL_MS and redraws the tables.
// Every value from the controller (worker ids, reasons, event details) is set with textContent,
// never as HTML.
(function () {
  'use strict';
  var POLL_MS = 1000;
  // Workers seen before but missing from the latest document: shown as gone until GONE_KEEP_MS passed.
  var GONE_KEEP_MS = 60000;
  var gone = {};
  var lastWorkers = {};

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) {
      e.textContent = String(text);
    }
    if (cls) {
      e.className = cls;
    }
    return e;
  }

  function row(cells, numeric) {
    var tr = document.createElement('tr');
    cells.forEach(function (c, i) {
      if (c instanceof Node) {
        var td = document.createElement('td');
        td.appendChild(c);
        tr.appendChild(td);
      } else {
        tr.appendChild(el('td', c, numeric && numeric.indexOf(i) >= 0 ? 'num' : null));
      }
    });
    return tr;
  }

  function fill(tableId, rows) {
    var body = document.querySelector('#' + tableId + ' tbody');
    while (body.firstChild) {
      body.removeChild(body.firstChild);
    }
    rows.forEach(function (r) { body.appendChild(r); });
  }

  function bytes(n) {
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    var i = 0;
    while (n >= 1024 && i < units.length - 1) {
      n /= 1024;
      i++;
    }
    return (i === 0 ? n.toFixed(0) : n.toFixed(1)) + ' ' + units[i];
  }

  function percent(ratio) {
    return ratio === undefined ? 'n/a' : (100 * ratio).toFixed(1) + ' %';
  }

  function badge(label) {
    // The class is one of a known set; anything else gets the neutral style.
    var known = ['serving', 'not_serving', 'down', 'unknown', 'gone'];
    return el('span', label, 'badge ' + (known.indexOf(label) >= 0 ? label : 'unknown'));
  }

  // Admin actions (drain, purge) need an operator token: asked once per tab, kept in sessionStorage
  // (gone with the tab), sent as a bearer token, forgotten when the controller answers 401.
  var TOKEN_KEY = 'slipstream.adminToken';

  function token() {
    var t = window.sessionStorage.getItem(TOKEN_KEY);
    if (!t) {
      t = window.prompt('Operator token for the Slipstream admin API');
      if (t) {
        window.sessionStorage.setItem(TOKEN_KEY, t);
      }
    }
    return t;
  }

  function adminPost(path, body) {
    var t = token();
    var out = document.getElementById('admin-result');
    if (!t) {
      out.textContent = 'no token given; nothing sent';
      return;
    }
    out.textContent = 'POST ' + path + ' ...';
    fetch(path, {
      method: 'POST', cache: 'no-store',
      headers: { 'Authorization': 'Bearer ' + t, 'Content-Type': 'application/json' },
      body: body === undefined ? '' : JSON.stringify(body)
    }).then(function (r) {
      if (r.status === 401) {
        window.sessionStorage.removeItem(TOKEN_KEY);
      }
      return r.text().then(function (text) { out.textContent = 'POST ' + path + ': ' + r.status + ' ' + text; });
    }).catch(function (err) {
      out.textContent = 'POST ' + path + ' failed: ' + err;
    });
  }

  function drainButton(id) {
    var b = el('button', 'Drain', 'action drain');
    b.type = 'button';
    b.addEventListener('click', function () {
      if (window.confirm('Drain worker ' + id + '?')) {
        adminPost('/api/workers/' + encodeURIComponent(id) + '/drain');
      }
    });
    return b;
  }

  function renderWorkers(doc) {
    var now = Date.now();
    var current = {};
    var rows = [];
    doc.workers.forEach(function (w) {
      current[w.id] = w;
      delete gone[w.id];
      var tr = row([w.id, w.role, w.site, badge(w.health), (100 * w.cpu).toFixed(0) + ' %',
        bytes(w.bytes_in_per_second), bytes(w.bytes_out_per_second), w.active_flows, w.queue_depth,
        w.compression_fallbacks, w.reason || '', w.health === 'serving' ? drainButton(w.id) : ''],
        [4, 5, 6, 7, 8, 9]);
      tr.setAttribute('data-worker-id', w.id);
      tr.setAttribute('data-health', w.health);
      tr.children[1].className = 'role';
      tr.children[3].className = 'health';
      rows.push(tr);
    });
    Object.keys(lastWorkers).forEach(function (id) {
      if (!current[id] && !gone[id]) {
        gone[id] = { worker: lastWorkers[id], since: now };
      }
    });
    Object.keys(gone).forEach(function (id) {
      var g = gone[id];
      if (now - g.since > GONE_KEEP_MS) {
        delete gone[id];
        return;
      }
      var tr = row([id, g.worker.role, g.worker.site, badge('gone'), '', '', '', '', '', '', 'left the fleet', ''],
        []);
      tr.setAttribute('data-worker-id', id);
      tr.setAttribute('data-health', 'gone');
      tr.className = 'gone';
      tr.children[1].className = 'role';
      tr.children[3].className = 'health';
      rows.push(tr);
    });
    lastWorkers = current;
    fill('workers', rows);
  }

  function render(doc) {
    fill('sites', doc.sites.map(function (s) { return row([s.site, s.workers, s.serving], [1, 2]); }));
    fill('roles', doc.roles.map(function (r) { return row([r.role, r.workers, r.serving], [1, 2]); }));
    var s = doc.savings;
    fill('savings', [
      row(['WAN bytes saved', bytes(s.wan_bytes_saved)], [1]),
      row(['WAN / application bytes', percent(s.wan_reduction_ratio)], [1]),
      row(['Cache hit ratio', percent(s.cache_hit_ratio)], [1]),
      row(['Cache hits / lookups', s.cache_hits + ' / ' + s.cache_lookups], [1]),
      row(['Origin requests', s.cache_origin_requests], [1]),
      row(['Origin bytes fetched', bytes(s.cache_origin_bytes)], [1]),
      row(['Origin requests saved', percent(s.origin_requests_saved_ratio)], [1]),
      row(['Origin bytes saved (est.)', s.origin_bytes_saved_estimate === undefined ? 'n/a'
          : bytes(s.origin_bytes_saved_estimate)], [1]),
      row(['Compression fallbacks', s.compression_fallbacks], [1])
    ]);
    renderWorkers(doc);
    fill('placement', doc.placement.map(function (p) {
      var members = p.members.map(function (m) { return m.id + ' (' + m.buckets + ')'; }).join(', ');
      return row([p.policy, p.site, p.chain, members || 'none']);
    }));
    fill('policies', doc.policies.map(function (p) {
      return row([p.name, p.chain, p.ingress_site || 'any']);
    }));
    var list = document.getElementById('events');
    while (list.firstChild) {
      list.removeChild(list.firstChild);
    }
    doc.events.forEach(function (e) {
      var li = el('li');
      li.setAttribute('data-kind', e.kind);
      li.setAttribute('data-worker', e.worker);
      li.appendChild(el('span', new Date(e.at).toLocaleTimeString(), 'muted'));
      li.appendChild(el('span', e.kind, 'kind'));
      li.appendChild(el('span', (e.worker ? e.worker + ': ' : '') + e.detail));
      list.appendChild(li);
    });
  }

  function connection(label, text) {
    var c = document.getElementById('connection');
    c.className = 'badge ' + label;
    c.textContent = text;
  }

  document.getElementById('purge-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var what = document.getElementById('purge-kind').value;
    var value = document.getElementById('purge-value').value.trim();
    var body = {};
    body[what] = what === 'tags' ? value.split(/\s+/) : value;
    adminPost('/api/cache/purge', body);
  });

  function poll() {
    fetch('/api/status', { cache: 'no-store' })
      .then(function (r) {
        if (!r.ok) {
          throw new Error('HTTP ' + r.status);
        }
        return r.json();
      })
      .then(function (doc) {
        render(doc);
        connection(doc.stale ? 'stale' : 'live', doc.stale ? 'ZooKeeper away: last known fleet' : 'live');
        document.getElementById('updated').textContent = 'updated ' + new Date().toLocaleTimeString()
          + ', generation ' + doc.generation;
      })
      .catch(function (err) {
        connection('offline', 'controller unreachable: ' + err.message);
      })
      .then(function () {
        window.setTimeout(poll, POLL_MS);
      });
  }

  poll();
}());
