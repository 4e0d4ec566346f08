/* 绿图 Lütu map search: a box that finds features of the map's layers by name, id, enterprise
 * or operator (the server's /map/search), and `lutu.focus`, which flies to one feature and
 * opens its popup. Every text from data is set with textContent.
 */
(function () {
  'use strict';

  var lutu = (window.lutu = window.lutu || { layers: {}, drawn: {}, errors: [], pending: 0 });
  var FOCUS_ZOOM = 15; // points: close enough to see the street, before any layer clusters
  var WAIT_MS = 10000;
  var instances = 0;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  /* A magnifying glass drawn in SVG (no icon font, nothing fetched). */
  function magnifier() {
    var ns = 'http://www.w3.org/2000/svg';
    var svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('width', '20');
    svg.setAttribute('height', '20');
    svg.setAttribute('aria-hidden', 'true');
    var circle = document.createElementNS(ns, 'circle');
    circle.setAttribute('cx', '10');
    circle.setAttribute('cy', '10');
    circle.setAttribute('r', '6.5');
    var handle = document.createElementNS(ns, 'line');
    handle.setAttribute('x1', '15');
    handle.setAttribute('y1', '15');
    handle.setAttribute('x2', '21');
    handle.setAttribute('y2', '21');
    [circle, handle].forEach(function (shape) {
      shape.setAttribute('fill', 'none');
      shape.setAttribute('stroke', 'currentColor');
      shape.setAttribute('stroke-width', '2.5');
      svg.appendChild(shape);
    });
    return svg;
  }

  function reducedMotion() {
    return window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  }

  /* The map the layers are on (the control remembers it; else the districts' map). */
  function theMap() {
    return lutu.map || (lutu.layers.districts && lutu.layers.districts._map) || null;
  }

  function once(map, event) {
    return new Promise(function (resolve) {
      map.once(event, function () {
        resolve();
      });
    });
  }

  /* The drawn Leaflet layer of a feature, or null (view layers and the districts keep them
   * by id in `_byId`). */
  function drawnFeature(layerId, id) {
    var layer = lutu.layers[layerId];
    return (layer && layer._byId && layer._byId[id]) || null;
  }

  /* Whether a layer has drawn the map's current view: the districts are in the page. */
  function settled(map, layer) {
    return layer.isCurrent ? layer.isCurrent() : !map._animatingZoom;
  }

  /* Resolves when the layer has drawn the current view: on its `lutu:drawn`, or already. */
  function whenDrawn(map, layer) {
    return new Promise(function (resolve) {
      var timer, poll;
      function check() {
        if (settled(map, layer)) finish();
      }
      function finish() {
        clearTimeout(timer);
        clearInterval(poll);
        if (layer.off) layer.off('lutu:drawn', check);
        resolve();
      }
      if (layer.on) layer.on('lutu:drawn', check);
      poll = setInterval(check, 100); // a view already covered draws nothing new
      timer = setTimeout(finish, WAIT_MS);
      setTimeout(check, 0); // after the layer's own scheduling of this tick
    });
  }

  function moveTo(map, target) {
    var b = target.bbox || [target.lon, target.lat, target.lon, target.lat];
    var maxZoom = map.getMaxZoom();
    var animate = !reducedMotion();
    var point = b[0] === b[2] && b[1] === b[3];
    var done = once(map, 'moveend');
    if (point) {
      var zoom = Math.min(Math.max(map.getZoom(), FOCUS_ZOOM), maxZoom);
      if (animate) map.flyTo([target.lat, target.lon], zoom, { duration: 0.8 });
      else map.setView([target.lat, target.lon], zoom, { animate: false });
    } else {
      var bounds = L.latLngBounds([b[1], b[0]], [b[3], b[2]]);
      var options = { padding: [40, 40], maxZoom: Math.min(16, maxZoom) };
      if (animate) map.flyToBounds(bounds, L.extend({ duration: 0.8 }, options));
      else map.fitBounds(bounds, L.extend({ animate: false }, options));
    }
    // A move to where the map already is fires no moveend in some Leaflet paths.
    return Promise.race([done, new Promise(function (r) { setTimeout(r, 1500); })]);
  }

  /* A popup of the feature on its own, at its point: for a feature this map does not draw
   * (another layer's, or left out by the map's filter). */
  function standalonePopup(map, target, popupUrl) {
    var box = el('div', 'lutu-popup-loading', '加载中… Loading…');
    var popup = L.popup({ maxWidth: 380 }).setLatLng([target.lat, target.lon]).setContent(box);
    popup.openOn(map);
    var url = popupUrl
      .replace('__LAYER__', encodeURIComponent(target.layer))
      .replace('__ID__', encodeURIComponent(target.id));
    fetch(url)
      .then(function (r) {
        if (!r.ok) throw new Error('popup ' + r.status);
        return r.text();
      })
      .then(function (html) {
        popup.setContent(html); // server-rendered and escaped
      })
      .catch(function (err) {
        lutu.errors.push(String(err));
        box.textContent = '无法加载 Could not load: ' + err;
      });
    return popup;
  }

  /* Fly to a feature ({layer, id, lon, lat, bbox}) and open its popup: the layer is turned on
   * if it is off, the map zooms in until the layer draws single features, not clusters.
   * Resolves with the Leaflet layer whose popup is open (or the standalone popup). */
  lutu.focus = function (target) {
    var map = theMap();
    if (!map || !target) return Promise.reject(new Error('no map or target'));
    var layer = lutu.layers[target.layer];
    if (layer && !map.hasLayer(layer)) map.addLayer(layer); // the layer control follows
    var start = map._animatingZoom ? once(map, 'zoomend') : Promise.resolve();
    var tries = 0;
    function attempt() {
      return (layer ? whenDrawn(map, layer) : Promise.resolve()).then(function () {
        var feature = layer ? drawnFeature(target.layer, target.id) : null;
        var drawn = lutu.drawn[target.layer];
        if (!feature && drawn && drawn.mode === 'clusters' && map.getZoom() < map.getMaxZoom() && tries < 6) {
          tries++; // still clustered here: closer
          var done = once(map, 'moveend');
          map.setView([target.lat, target.lon], Math.min(map.getZoom() + 2, map.getMaxZoom()));
          return done.then(attempt);
        }
        return feature;
      });
    }
    return start
      .then(function () {
        return moveTo(map, target);
      })
      .then(attempt)
      .then(function (feature) {
        if (!feature) return standalonePopup(map, target, lutu.popupUrl || '');
        var at = L.latLng(target.lat, target.lon);
        if (feature.getLatLng) feature.openPopup();
        else feature.openPopup(at);
        return feature;
      });
  };

  function describe(hit) {
    var where = [hit.layer_zh, hit.county].filter(Boolean).join(' · ');
    var item = el('li', 'lutu-search-hit');
    item.appendChild(el('span', 'lutu-search-name', hit.name || hit.id));
    item.appendChild(el('small', 'lutu-search-where', where));
    if (hit.field !== 'name' && hit.field !== 'name_zh') {
      item.appendChild(el('small', 'lutu-search-matched', hit.field_zh + '：' + hit.text));
    }
    return item;
  }

  /* The search box, a Leaflet control: type, pick with a click or arrows + Enter. */
  L.lutu = L.lutu || {};
  L.lutu.SearchControl = L.Control.extend({
    options: { position: 'topleft' },

    initialize: function (options) {
      L.setOptions(this, options);
      this._hits = [];
      this._active = -1;
      this._seq = 0;
      this._n = ++instances;
    },

    onAdd: function (map) {
      var self = this;
      lutu.map = map;
      lutu.popupUrl = this.options.popupUrl;
      var root = el('div', 'leaflet-control lutu-search');
      root.setAttribute('role', 'search');
      root.setAttribute('lang', 'zh-CN');
      var toggle = el('button', 'lutu-search-toggle');
      toggle.type = 'button';
      toggle.setAttribute('aria-label', '打开搜索 Open search');
      toggle.setAttribute('aria-expanded', 'false');
      toggle.appendChild(magnifier());
      var input = el('input', 'lutu-search-input');
      input.type = 'search';
      input.setAttribute('aria-label', '搜索 Search');
      input.placeholder = '搜索地名、设施、编号 Search';
      input.autocomplete = 'off';
      input.spellcheck = false;
      var listId = 'lutu-search-results-' + this._n;
      input.setAttribute('role', 'combobox');
      input.setAttribute('aria-autocomplete', 'list');
      input.setAttribute('aria-expanded', 'false');
      input.setAttribute('aria-controls', listId);
      var list = el('ul', 'lutu-search-results');
      list.id = listId;
      list.setAttribute('role', 'listbox');
      list.setAttribute('aria-label', '搜索结果 Results');
      list.hidden = true;
      var status = el('div', 'lutu-search-status');
      status.setAttribute('role', 'status');
      status.setAttribute('aria-live', 'polite');
      root.appendChild(toggle);
      root.appendChild(input);
      root.appendChild(list);
      root.appendChild(status);
      this._root = root;
      this._input = input;
      this._list = list;
      this._status = status;
      this._toggle = toggle;

      L.DomEvent.disableClickPropagation(root);
      L.DomEvent.disableScrollPropagation(root);
      toggle.addEventListener('click', function () {
        self._open(!root.classList.contains('lutu-search-open'));
      });
      input.addEventListener('input', function () {
        clearTimeout(self._timer);
        self._timer = setTimeout(function () {
          self._search(input.value);
        }, 180);
      });
      input.addEventListener('keydown', function (e) {
        self._key(e);
      });
      list.addEventListener('mousedown', function (e) {
        e.preventDefault(); // keep the focus in the box while a result is clicked
      });
      if (this.options.focus) {
        var focus = this.options.focus;
        setTimeout(function () {
          if (focus.missing) {
            self._say('未找到要找的要素 The feature asked for was not found');
            return;
          }
          lutu.focus(focus).catch(function (err) {
            lutu.errors.push(String(err));
          });
        }, 0); // after the page's own first fit of the map
      }
      return root;
    },

    _open: function (open) {
      this._root.classList.toggle('lutu-search-open', open);
      this._toggle.setAttribute('aria-expanded', String(open));
      if (open) this._input.focus();
    },

    _say: function (text) {
      this._status.textContent = text || '';
    },

    _search: function (text, chooseFirst) {
      var self = this;
      var q = text.trim();
      var seq = ++this._seq;
      if (!q) {
        this._show([]);
        this._say('');
        return;
      }
      var url = this.options.url + (this.options.url.indexOf('?') < 0 ? '?' : '&') +
        'q=' + encodeURIComponent(q) + '&layers=' + encodeURIComponent(this.options.layers.join(','));
      fetch(url)
        .then(function (r) {
          if (!r.ok) throw new Error('search ' + r.status);
          return r.json();
        })
        .then(function (data) {
          if (seq !== self._seq) return; // a later query is on its way
          self._show(data.hits, q);
          self._say(data.hits.length ? data.hits.length + ' 个结果 results' : '未找到 No results');
          if (chooseFirst && data.hits.length) self._choose(0);
        })
        .catch(function (err) {
          if (seq !== self._seq) return;
          lutu.errors.push(String(err));
          self._show([]);
          self._say('搜索失败 Search failed');
        });
    },

    _show: function (hits, query) {
      var self = this;
      this._hits = hits;
      this._shownFor = query || '';
      this._active = -1;
      this._list.textContent = '';
      hits.forEach(function (hit, i) {
        var item = describe(hit);
        item.id = self._list.id + '-' + i;
        item.setAttribute('role', 'option');
        item.setAttribute('aria-selected', 'false');
        item.addEventListener('click', function () {
          self._choose(i);
        });
        self._list.appendChild(item);
      });
      this._list.hidden = hits.length === 0;
      this._input.setAttribute('aria-expanded', String(hits.length > 0));
      this._input.removeAttribute('aria-activedescendant');
    },

    _highlight: function (i) {
      var items = this._list.children;
      if (!items.length) return;
      this._active = (i + items.length) % items.length;
      for (var k = 0; k < items.length; k++) {
        items[k].setAttribute('aria-selected', String(k === this._active));
        items[k].classList.toggle('lutu-search-active', k === this._active);
      }
      this._input.setAttribute('aria-activedescendant', items[this._active].id);
      items[this._active].scrollIntoView({ block: 'nearest' });
    },

    _key: function (e) {
      if (e.key === 'ArrowDown') {
        e.preventDefault();
        this._highlight(this._active + 1);
      } else if (e.key === 'ArrowUp') {
        e.preventDefault();
        this._highlight(this._active - 1);
      } else if (e.key === 'Enter') {
        e.preventDefault();
        if (this._hits.length && this._shownFor === this._input.value.trim()) {
          this._choose(this._active < 0 ? 0 : this._active);
        } else {
          clearTimeout(this._timer); // Enter before the answer came: ask now, take the first
          this._search(this._input.value, true);
        }
      } else if (e.key === 'Escape') {
        this._show([]);
        if (!this._input.value) this._open(false);
      }
    },

    _choose: function (i) {
      var hit = this._hits[i];
      if (!hit) return;
      var self = this;
      this._input.value = hit.name || hit.id;
      this._show([]);
      this._say('正在前往 Going to ' + (hit.name || hit.id));
      lutu
        .focus(hit)
        .then(function () {
          self._say('');
        })
        .catch(function (err) {
          lutu.errors.push(String(err));
          self._say('无法定位 Could not go there');
        });
    },
  });

  L.lutu.searchControl = function (options) {
    return new L.lutu.SearchControl(options);
  };
})();
