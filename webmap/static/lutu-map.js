/* 绿图 Lütu map layers for Leaflet: district base, view-loaded feature layers, controls.
 *
 * Facility layers are fetched for the current view: single features when few are in view,
 * server-side grid clusters (with counts) when many are, so 100,000 villages stay responsive
 * and none is silently dropped. Text from data is set with textContent; popup HTML comes from
 * the server, which escapes every value.
 */
(function () {
  'use strict';

  // Test and benchmark hooks: what each layer last drew, and errors seen.
  var lutu = (window.lutu = window.lutu || { layers: {}, drawn: {}, errors: [], pending: 0 });

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function ensurePanes(map) {
    if (map._lutuPanes) return map._lutuPanes;
    [['lutu-districts', 350], ['lutu-areas', 380], ['lutu-points', 450], ['lutu-labels', 590]]
      .forEach(function (p) {
        var pane = map.createPane(p[0]);
        pane.style.zIndex = p[1];
        if (p[0] === 'lutu-labels') pane.style.pointerEvents = 'none';
      });
    // One canvas for every point layer: stacked canvases would swallow each other's clicks.
    var points = L.canvas({ pane: 'lutu-points', padding: 0.3 });
    passClicksThrough(points);
    map._lutuPanes = { points: points };
    map.on('popupopen', function (e) {
      sheet(map, e.popup);
    });
    map.on('zoomend', function () { zoomClass(map); });
    zoomClass(map);
    return map._lutuPanes;
  }

  /* The points canvas covers the whole map above the areas and lines (SVG): a click that hits
     no point is given to the area or line under it, or parks and spurs could not be clicked. */
  function passClicksThrough(renderer) {
    var onClick = renderer._onClick;
    renderer._onClick = function (e) {
      if (e.type === 'click' && !hitsPoint(this, e)) {
        var canvas = this._container;
        canvas.style.pointerEvents = 'none';
        var below = document.elementFromPoint(e.clientX, e.clientY);
        canvas.style.pointerEvents = '';
        if (below instanceof SVGElement && below !== canvas) {
          L.DomEvent.stop(e); // the map hears the click once, from the area or line
          below.dispatchEvent(new MouseEvent('click', e));
          return;
        }
      }
      return onClick.call(this, e);
    };
  }

  /* On a phone a popup over the map hides what it is about and pans the map away: show it
     as a sheet along the map's bottom instead (lutu.css .lutu-sheet). */
  function sheet(map, popup) {
    var box = popup.getElement();
    if (!box || !narrowScreen()) return;
    box.classList.add('lutu-sheet');
    map.getContainer().appendChild(box);
  }

  function hitsPoint(renderer, e) {
    var point = renderer._map.mouseEventToLayerPoint(e);
    for (var order = renderer._drawFirst; order; order = order.next) {
      var layer = order.layer;
      if (layer.options.interactive && layer._containsPoint(point)) return true;
    }
    return false;
  }

  function zoomClass(map) {
    var c = map.getContainer();
    c.classList.toggle('lutu-zoom-low', map.getZoom() < 9);
  }

  var POPUP_TIMEOUT_MS = 15000;

  function narrowScreen() {
    return window.matchMedia('(max-width: 600px)').matches;
  }

  /* On a phone the popup is a sheet along the map's bottom (see sheetPopups): no autopan. */
  function popupOptions(maxWidth) {
    var narrow = narrowScreen();
    return { maxWidth: narrow ? Math.max(200, window.innerWidth - 24) : maxWidth, autoPan: !narrow };
  }

  function popupLoader(url, id, owner) {
    // `owner` holds the popup: for a multi-part feature Leaflet passes the clicked part.
    return function (clicked) {
      var layer = owner || clicked;
      var box = el('div', 'lutu-popup-loading', '加载中… Loading…');
      box.setAttribute('role', 'status');
      load(layer, box);
      return box;
    };

    function load(layer, box) {
      var aborter = window.AbortController ? new AbortController() : null;
      var timer = aborter && setTimeout(function () { aborter.abort(); }, POPUP_TIMEOUT_MS);
      fetch(url.replace('__ID__', encodeURIComponent(id)), aborter ? { signal: aborter.signal } : {})
        .then(function (r) {
          if (!r.ok) throw new Error('HTTP ' + r.status);
          return r.text();
        })
        .then(function (html) {
          layer.setPopupContent(html); // server-rendered and escaped
        })
        .catch(function (err) {
          lutu.errors.push('popup ' + id + ': ' + err);
          // Say so and offer a retry: a popup must never stay at 加载中.
          var timedOut = err && err.name === 'AbortError';
          box.textContent = '';
          box.className = 'lutu-popup-failed';
          box.appendChild(el('p', null, timedOut ? '加载超时 Timed out' : '无法加载 Could not load: ' + err.message));
          var retry = el('button', 'lutu-retry', '重试 Retry');
          retry.type = 'button';
          retry.addEventListener('click', function (e) {
            L.DomEvent.stop(e);
            box.className = 'lutu-popup-loading';
            box.textContent = '加载中… Loading…';
            load(layer, box);
          });
          box.appendChild(retry);
          // As the content, not the loader: Leaflet would call the loader again on update.
          layer.setPopupContent(box);
        })
        .then(function () {
          if (timer) clearTimeout(timer);
        });
    }
  }

  /* Point layers share a canvas, drawn in the order features were added; put them back in
   * the order of their `z`, so the numerous layers lie below the rare ones whatever order
   * the answers arrived in. */
  function restack(map) {
    Object.keys(lutu.layers)
      .map(function (k) {
        return lutu.layers[k];
      })
      .filter(function (l) {
        return l.options && l.options.geometryType === 'Point' && l._map === map;
      })
      .sort(function (a, b) {
        return (a.options.z || 0) - (b.options.z || 0);
      })
      .forEach(function (l) {
        l.eachLayer(function (f) {
          if (f.bringToFront) f.bringToFront();
        });
      });
  }

  /* A point drawn as its layer's shape (circle, square, diamond, triangle) on the shared
     canvas, so layers differ by shape and not by colour alone; hits stay the circle's. */
  var ShapeMarker = L.CircleMarker.extend({
    _updatePath: function () {
      var shape = this.options.shape;
      var renderer = this._renderer;
      if (!shape || shape === 'circle' || !renderer._ctx) return L.CircleMarker.prototype._updatePath.call(this);
      if (!renderer._drawing || this._empty()) return;
      var p = this._point;
      var r = Math.max(Math.round(this._radius), 1);
      var ctx = renderer._ctx;
      ctx.beginPath();
      if (shape === 'square') {
        ctx.rect(p.x - r * 0.9, p.y - r * 0.9, r * 1.8, r * 1.8);
      } else if (shape === 'diamond') {
        ctx.moveTo(p.x, p.y - r * 1.2);
        ctx.lineTo(p.x + r * 1.2, p.y);
        ctx.lineTo(p.x, p.y + r * 1.2);
        ctx.lineTo(p.x - r * 1.2, p.y);
        ctx.closePath();
      } else {
        ctx.moveTo(p.x, p.y - r * 1.2);
        ctx.lineTo(p.x + r * 1.1, p.y + r * 0.8);
        ctx.lineTo(p.x - r * 1.1, p.y + r * 0.8);
        ctx.closePath();
      }
      renderer._fillStroke(ctx, this);
    },
  });

  /* Administrative districts: the base of every map, with name labels. */
  L.lutu = L.lutu || {};
  L.lutu.districts = function (data, options) {
    var Group = L.FeatureGroup.extend({
      onAdd: function (map) {
        ensurePanes(map); // panes must exist before the polygons are added to them
        L.FeatureGroup.prototype.onAdd.call(this, map);
      },
    });
    var group = new Group();
    group._byId = {}; // as a view layer's, for search and focus
    var polygons = L.geoJSON(data, {
      pane: 'lutu-districts',
      style: function (f) {
        // A choropleth gives a district its own fill (computed and escaped on the server).
        return L.extend({}, options.styles[f.properties.level], f.properties.style || {});
      },
      onEachFeature: function (f, layer) {
        group._byId[f.properties.id] = layer;
        layer.bindPopup(popupLoader(options.popupUrl, f.properties.id, layer), popupOptions(360));
        if (f.properties.tooltip) {
          // A choropleth says its county's value on hover (plain text from the server).
          layer.bindTooltip(el('span', null, f.properties.tooltip), { sticky: true, className: 'lutu-hover' });
          layer.on('mouseover', function () { layer.setStyle({ weight: 3 }); });
          layer.on('mouseout', function () { polygons.resetStyle(layer); });
        }
      },
    });
    group.addLayer(polygons);
    data.features.forEach(function (f) {
      if (f.properties.level === 'province') return;
      var label = el('span', null, f.properties.name_zh);
      group.addLayer(
        L.tooltip({
          permanent: true,
          direction: 'center',
          interactive: false,
          pane: 'lutu-labels',
          className: 'lutu-label lutu-label-' + f.properties.level,
        })
          .setLatLng([f.properties.label[1], f.properties.label[0]])
          .setContent(label)
      );
    });
    lutu.layers.districts = group;
    lutu.drawn.districts = { mode: 'features', features: data.features.length, total: data.features.length };
    return group;
  };

  /* A layer fetched for the map's view. */
  L.lutu.ViewLayer = L.LayerGroup.extend({
    initialize: function (options) {
      L.LayerGroup.prototype.initialize.call(this);
      this.options = options;
      this._seq = 0;
      this._byId = {};
      lutu.layers[options.layer] = this;
    },

    onAdd: function (map) {
      ensurePanes(map);
      L.LayerGroup.prototype.onAdd.call(this, map);
      map.on('moveend', this._schedule, this);
      map.on('zoomanim', this._onZoomAnim, this);
      this._schedule();
    },

    onRemove: function (map) {
      map.off('moveend', this._schedule, this);
      map.off('zoomanim', this._onZoomAnim, this);
      this._seq++; // drop answers still in flight
      this._last = null;
      L.LayerGroup.prototype.onRemove.call(this, map);
      delete lutu.drawn[this.options.layer];
    },

    // Coalesce the moves of one tick (adding the layer, then fitBounds) into one request.
    _schedule: function () {
      if (this._timer) return;
      var self = this;
      this._timer = setTimeout(function () {
        self._timer = null;
        self._refresh(self._map && self._map.getBounds(), self._map && self._map.getZoom());
      }, 0);
    },

    // Ask for the target view as the zoom animation starts, not after it ends.
    _onZoomAnim: function (e) {
      var map = this._map;
      var half = map.getSize().divideBy(2);
      var centre = map.project(e.center, e.zoom);
      var bounds = L.latLngBounds(
        map.unproject(centre.subtract(half), e.zoom),
        map.unproject(centre.add(half), e.zoom)
      );
      this._refresh(bounds, e.zoom);
    },

    _refresh: function (view, zoom) {
      var map = this._map;
      if (!map || !view) return;
      var last = this._last;
      if (last && last.zoom === zoom && last.bounds.contains(view)) {
        // What was fetched (with its margin) still covers this view: nothing to ask.
        if (lutu.drawn[this.options.layer]) lutu.drawn[this.options.layer].current = performance.now();
        return;
      }
      var b = view.pad(0.3);
      this._last = { bounds: b, zoom: zoom };
      var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) {
        return v.toFixed(5);
      });
      var sep = this.options.url.indexOf('?') < 0 ? '?' : '&';
      var url = this.options.url + sep + 'bbox=' + bbox.join(',') + '&zoom=' + zoom;
      var seq = ++this._seq;
      var self = this;
      lutu.pending++;
      fetch(url)
        .then(function (r) {
          if (!r.ok) throw new Error(self.options.layer + ' ' + r.status);
          return r.json();
        })
        .then(function (data) {
          self._retries = 0;
          if (seq === self._seq && self._map) {
            self._draw(data);
            self._drawnSeq = seq;
          }
        })
        .catch(function (err) {
          lutu.errors.push(String(err));
          if (window.console) console.warn('绿图', err);
          if (seq !== self._seq) return;
          self._last = null; // try again on the next move, and by itself a few times: a
          // dropped request (a busy server, a flaky intranet) must not leave the layer stale
          self._retries = (self._retries || 0) + 1;
          if (self._retries <= 3) {
            setTimeout(function () {
              self._schedule();
            }, 300 * self._retries);
          }
        })
        .then(function () {
          lutu.pending--;
        });
    },

    _draw: function (data) {
      var self = this;
      // A feature whose popup is open stays as it is: redrawing it would close the popup
      // (its own autopan moves the map and asks for the new view).
      var open = null;
      this.eachLayer(function (l) {
        if (l._lutuId !== undefined && l.isPopupOpen && l.isPopupOpen()) open = l;
        else self.removeLayer(l);
      });
      this._byId = {};
      if (data.mode === 'clusters') {
        data.clusters.forEach(function (c) {
          self.addLayer(self._cluster(c));
        });
      } else {
        data.features.forEach(function (f) {
          if (open && open._lutuId === f.id) {
            self._byId[f.id] = open;
            return;
          }
          var layer = self._feature(f);
          self._byId[f.id] = layer;
          self.addLayer(layer);
        });
      }
      if (open && self._byId[open._lutuId] !== open) {
        // Not in the new answer (clusters now, or out of the view): gone once it closes.
        open.once('popupclose', function () {
          if (self._byId[open._lutuId] !== open) self.removeLayer(open);
        });
      }
      var drawn = {
        mode: data.mode,
        total: data.total,
        features: data.mode === 'features' ? data.features.length : 0,
        clusters: data.mode === 'clusters' ? data.clusters.length : 0,
        omitted: data.omitted || 0,
        zoom: data.zoom,
        at: performance.now(),
      };
      drawn.current = drawn.at;
      if (this.options.geometryType === 'Point') restack(this._map);
      lutu.drawn[this.options.layer] = drawn;
      this.fire('lutu:drawn', drawn);
      document.dispatchEvent(new CustomEvent('lutu:drawn', { detail: { layer: this.options.layer } }));
      if (drawn.omitted && window.console) {
        console.info('绿图', this.options.name, 'showing', drawn.features, 'of', drawn.total);
      }
    },

    _feature: function (f) {
      var o = this.options;
      var style = L.extend({}, o.styles[f.k]);
      var layer;
      if (o.geometryType === 'Point') {
        style.renderer = this._map._lutuPanes.points;
        style.pane = 'lutu-points';
        style.shape = o.shape;
        layer = new ShapeMarker([f.g[1], f.g[0]], style);
      } else {
        if (o.pane) style.pane = o.pane;
        layer = L.geoJSON({ type: 'Feature', geometry: f.g, properties: {} }, {
          style: function () {
            return style;
          },
          pane: o.pane || 'overlayPane',
        });
      }
      layer._lutuId = f.id;
      layer._lutuName = f.n;
      layer.bindPopup(popupLoader(o.popupUrl, f.id, layer), popupOptions(380));
      if (o.labelZoom !== null && o.labelZoom !== undefined && f.n && this._map.getZoom() >= o.labelZoom) {
        layer.bindTooltip(el('span', null, f.n), {
          permanent: true,
          direction: 'center',
          interactive: false,
          pane: 'lutu-labels',
          className: 'lutu-label lutu-label-feature',
        });
      }
      return layer;
    },

    _cluster: function (c) {
      var size = Math.round(22 + Math.min(22, Math.log10(c.n) * 6));
      var badge = el('span', null, c.n >= 10000 ? (c.n / 10000).toFixed(1) + '万' : String(c.n));
      badge.style.background = this.options.clusterColor;
      var icon = L.divIcon({
        className: 'lutu-cluster lutu-cluster-' + this.options.layer,
        iconSize: [size, size],
        html: badge,
      });
      var marker = L.marker([c.y, c.x], {
        icon: icon,
        title: this.options.name + ' ' + c.n + ' 个，点击放大 (click to zoom in)',
        keyboard: true,
      });
      var map = this._map;
      marker.on('click', function () {
        var bounds = L.latLngBounds([c.b[1], c.b[0]], [c.b[3], c.b[2]]);
        var target = Math.min(map.getBoundsZoom(bounds), map.getMaxZoom());
        map.setView(bounds.getCenter(), Math.max(target, map.getZoom() + 1));
      });
      return marker;
    },

    /* Whether what is drawn is the answer for the map's current view (nothing pending). */
    isCurrent: function () {
      var map = this._map;
      var last = this._last;
      return Boolean(
        map && !this._timer && !map._animatingZoom && last && this._drawnSeq === this._seq &&
          last.zoom === map.getZoom() && last.bounds.contains(map.getBounds())
      );
    },

    /* Container pixel of a drawn feature (for tests and benchmarks). */
    screenPoint: function (id) {
      var layer = this._byId[id];
      if (!layer || !this._map) return null;
      var ll = layer.getLatLng ? layer.getLatLng() : layer.getBounds().getCenter();
      var p = this._map.latLngToContainerPoint(ll);
      return { x: p.x, y: p.y };
    },
  });

  L.lutu.viewLayer = function (options) {
    return new L.lutu.ViewLayer(options);
  };

  /* Keyboard and screen-reader access: 要素列表 lists the features drawn in view as buttons;
     Tab reaches them and Enter opens the feature's popup, which then takes the focus. */
  var LIST_LIMIT = 300;
  L.lutu.featureList = function (map) {
    var Control = L.Control.extend({
      onAdd: function () {
        var div = el('div', 'leaflet-control leaflet-bar lutu-list-control');
        var button = el('button', 'lutu-list-button', '要素列表');
        button.type = 'button';
        button.title = '视图内要素列表 Features in view (keyboard)';
        button.setAttribute('aria-expanded', 'false');
        button.appendChild(el('small', null, ' List'));
        var panel = el('div', 'lutu-list-panel');
        panel.hidden = true;
        panel.setAttribute('role', 'region');
        panel.setAttribute('aria-label', '视图内要素 Features in view');
        div.appendChild(button);
        div.appendChild(panel);
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        button.addEventListener('click', function () {
          panel.hidden = !panel.hidden;
          button.setAttribute('aria-expanded', String(!panel.hidden));
          if (!panel.hidden) fill(panel);
        });
        document.addEventListener('lutu:drawn', function () {
          if (!panel.hidden) fill(panel);
        });
        return div;
      },
    });

    function fill(panel) {
      panel.textContent = '';
      var view = map.getBounds();
      var shown = 0;
      Object.keys(lutu.layers).forEach(function (key) {
        var group = lutu.layers[key];
        if (key === 'districts' || !map.hasLayer(group) || !group._byId) return;
        var items = Object.keys(group._byId)
          .map(function (id) { return group._byId[id]; })
          .filter(function (layer) {
            return layer.getLatLng ? view.contains(layer.getLatLng()) : view.intersects(layer.getBounds());
          });
        if (!items.length) return;
        panel.appendChild(el('h4', null, group.options.name + ' ' + items.length));
        var list = el('ul');
        items.slice(0, Math.max(0, LIST_LIMIT - shown)).forEach(function (layer) {
          var item = el('li');
          var open = el('button', null, layer._lutuName || layer._lutuId);
          if (layer._lutuName) open.appendChild(el('small', null, ' ' + layer._lutuId));
          open.type = 'button';
          open.addEventListener('click', function () {
            layer.once('popupopen', function (e) {
              var box = e.popup.getElement();
              box.setAttribute('tabindex', '-1');
              box.focus();
            });
            layer.openPopup();
          });
          item.appendChild(open);
          list.appendChild(item);
        });
        shown += items.length;
        panel.appendChild(list);
      });
      if (!shown) panel.appendChild(el('p', null, '视图内没有单个要素：放大地图 No single features in view: zoom in'));
      else if (shown > LIST_LIMIT) panel.appendChild(el('p', null, '只列出前 ' + LIST_LIMIT + ' 个 Only the first ' + LIST_LIMIT + ' listed'));
    }
    return new Control({ position: 'topleft' });
  };

  /* The legend lists only the layers on the map, takes at most half its height, and starts
     folded on a phone. */
  function fitLegend(map, legend) {
    if (narrowScreen()) legend.removeAttribute('open');
    function sync() {
      legend.style.maxHeight = Math.round(map.getSize().y * 0.5) + 'px';
      legend.querySelectorAll('[data-layer]').forEach(function (entry) {
        var layer = lutu.layers[entry.getAttribute('data-layer')];
        entry.hidden = Boolean(layer) && !map.hasLayer(layer);
      });
    }
    map.on('overlayadd overlayremove resize', sync);
    setTimeout(sync, 0);
  }

  /* A control holding server-rendered, escaped HTML (legend, notices). */
  L.lutu.htmlControl = function (html, options) {
    var Control = L.Control.extend({
      onAdd: function (map) {
        var div = el('div', 'leaflet-control ' + (options.className || ''));
        div.innerHTML = html;
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        var legend = div.querySelector('.lutu-legend');
        if (legend) fitLegend(map, legend);
        return div;
      },
    });
    return new Control({ position: options.position || 'topright' });
  };
})();
