// Plotly for the live latent plane in the app: the upgrade a Plane's canvas first paint hands
// over to (see vae_core/web/plane.js), drawing the same points with scattergl at the same
// geometry, with Plotly's pan, zoom and mode bar (PNG download).

import { shared } from "../vae_explorer.plane_web/loader.js";
import { MARGIN } from "../vae_explorer.plane_web/geometry.js";

// The plotly.min.js of the installed plotly package, served by the app itself (assets.py).
const PLOTLY_URL = new URL("../vae_explorer.plotly/plotly.min.js", import.meta.url).href;

// Always the plotly.min.js the app serves (never a CDN, nor another copy a page may hold):
// whatever window.Plotly was before stays as it was.
function loadPlotly(url) {
  if (!shared.plotly) {
    shared.plotly = new Promise((resolve, reject) => {
      const previous = window.Plotly;
      const script = document.createElement("script");
      script.src = url;
      script.onload = () => {
        const ours = window.Plotly;
        if (previous) window.Plotly = previous;
        resolve(ours);
      };
      script.onerror = () => { shared.plotly = null; reject(new Error("Plotly could not be loaded from the app's server")); };
      document.head.appendChild(script);
    });
  }
  return shared.plotly;
}

// One trace per class that has points, in class order (plane.traceOf numbers them).
function traces(plane) {
  const { points, opts } = plane, out = [];
  plane.byClass.forEach((idx, c) => {
    if (!idx.length) return;
    const x = new Float32Array(idx.length), y = new Float32Array(idx.length);
    idx.forEach((i, k) => { x[k] = points.z[2 * i]; y[k] = points.z[2 * i + 1]; });
    out.push({ type: "scattergl", mode: "markers", x, y, name: opts.classes[c], hoverinfo: "skip",
               visible: plane.hidden.has(c) ? "legendonly" : true,
               marker: { size: opts.markerSize, color: opts.colors[c % opts.colors.length], opacity: 0.75 } });
  });
  return out;
}

function upgradeWith(Plotly) {
  return {
    name: "plotly",
    async draw(plane) {
      const opts = plane.opts, e = opts.extent;
      const axis = { range: [-e, e], zeroline: true, zerolinecolor: "#d0d0d0", gridcolor: "rgba(0,0,0,0.07)",
                     constrain: "domain", fixedrange: false, automargin: false };
      // fixed margins and a square plot area (scaleanchor, equal ranges): the canvas's geometry
      const layout = {
        width: opts.size, height: opts.size, margin: MARGIN, showlegend: false,
        dragmode: opts.dragmode, hovermode: false, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
        xaxis: { ...axis, title: { text: opts.axes[0], standoff: 4 } },
        yaxis: { ...axis, title: { text: opts.axes[1], standoff: 2 }, scaleanchor: "x", scaleratio: 1 },
        uirevision: "keep",
      };
      const config = { displaylogo: false, scrollZoom: opts.scrollZoom, doubleClick: false, responsive: false,
                       displayModeBar: opts.modeBar, modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"],
                       toImageButtonOptions: { filename: opts.filename || "latent-plane", scale: 2 } };
      await Plotly.react(plane.plot, traces(plane), layout, config);
      plane.plot.on("plotly_relayouting", () => plane.moved(false));
      plane.plot.on("plotly_relayout", () => plane.moved(true));
    },
    axes(plane) {
      const fl = plane.plot._fullLayout;
      return fl && fl.xaxis ? [fl.xaxis, fl.yaxis] : null;
    },
    relayout(plane, update) { Plotly.relayout(plane.plot, update); },
    restyle(plane, visible, indices) { Plotly.restyle(plane.plot, { visible }, indices); },
    purge(plane) { Plotly.purge(plane.plot); },
  };
}

// The upgrade, once Plotly has loaded (a View's `upgrade` option).
export async function plotlyUpgrade() {
  return upgradeWith(await loadPlotly(PLOTLY_URL));
}
