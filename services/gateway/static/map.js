/* The maps of the pages, drawn with the bundled Leaflet (static/leaflet, BSD-2-Clause).
 *
 * Each map's data stands in the page as <script type="application/json" class="map-data">
 * (written by services/gateway/web/maps.py). The map is an addition: the list beside it
 * names every feature in words, and without JavaScript only the list is there. Tiles come
 * only from the background the operator configured; without one the boundary and the
 * measures are drawn on a plain background and nothing is requested from another host.
 */
(function () {
  "use strict";
  if (typeof L === "undefined") { return; }

  var INK = "#0b5a2a";

  function centreOf(layer) {
    if (layer.getLatLng) { return layer.getLatLng(); }
    return layer.getBounds().getCenter();
  }

  function draw(data) {
    var box = document.getElementById(data.id);
    if (!box) { return; }
    box.hidden = false;
    var hints = document.querySelectorAll('.map-only[data-map="' + data.id + '"]');
    for (var h = 0; h < hints.length; h++) { hints[h].hidden = false; }
    var map = L.map(box, {
      zoomControl: false, scrollWheelZoom: false, keyboard: true,
      attributionControl: true, zoomSnap: 0.5
    });
    map.attributionControl.setPrefix(false);
    L.control.zoom({
      zoomInTitle: data.texts.zoom_in, zoomOutTitle: data.texts.zoom_out
    }).addTo(map);
    var tiles = data.tiles;
    if (tiles && tiles.kind === "wms") {
      L.tileLayer.wms(tiles.url, {
        layers: tiles.layers, format: "image/png", transparent: false,
        attribution: tiles.attribution, maxZoom: tiles.max_zoom
      }).addTo(map);
    } else if (tiles) {
      L.tileLayer(tiles.url, {attribution: tiles.attribution, maxZoom: tiles.max_zoom}).addTo(map);
    } else {
      box.classList.add("map-plain");
      map.setMaxZoom(18);
    }
    var bounds = L.latLngBounds([]);
    if (data.boundary) {
      var outline = L.geoJSON(data.boundary, {
        interactive: false,
        style: {color: "#4a4a4a", weight: 2, dashArray: "6 4", fillColor: "#4a4a4a",
                fillOpacity: 0.05}
      }).addTo(map);
      bounds.extend(outline.getBounds());
    }
    data.features.forEach(function (f) {
      var shape = L.geoJSON(f.geometry, {
        style: {color: INK, weight: 5, opacity: 0.9, fillColor: INK, fillOpacity: 0.25},
        pointToLayer: function (feature, latlng) {
          return L.circleMarker(latlng, {radius: 4, color: INK, fillOpacity: 1, interactive: false});
        }
      }).addTo(map);
      shape.bindTooltip(f.code + " " + f.title);
      shape.on("click", function () { window.location.href = f.href; });
      bounds.extend(shape.getBounds());
      // A pin for each feature: reached with the Tab key, opened with Enter.
      var layers = shape.getLayers();
      var pin = L.marker(centreOf(layers[0]), {
        keyboard: true, title: f.code + " " + f.title, riseOnHover: true,
        icon: L.divIcon({className: "map-pin", iconSize: [20, 20]})
      }).addTo(map);
      pin.on("click", function () { window.location.href = f.href; });
      // role="button": Enter and Space open it, as with any button (the element exists
      // once the map has its view, so the listener comes with the pin's "add")
      pin.on("add", function () {
        pin.getElement().addEventListener("keydown", function (e) {
          if (e.key === "Enter" || e.key === " ") {
            e.preventDefault();
            window.location.href = f.href;
          }
        });
      });
    });
    if (bounds.isValid()) {
      map.fitBounds(bounds, {padding: [24, 24], maxZoom: 15});
    } else {
      map.setView([51.2, 8.0], 9);
    }
  }

  var blocks = document.querySelectorAll("script.map-data");
  for (var i = 0; i < blocks.length; i++) {
    try {
      draw(JSON.parse(blocks[i].textContent));
    } catch (e) {
      // the list beside the map says everything the map would
      if (window.console) { window.console.error(e); }
    }
  }
}());
