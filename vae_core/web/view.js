// A mounted latent plane (one per element): it checks its payload, builds the DOM every mode
// shares (the planes, the side panel with the decoded image, readout and hint, the thumbnail by
// the cursor and the touch preview in the corner), loads the points and the decoder, decodes
// the spot under the pointer in the same frame, and leaves everything mode-specific to its
// controller (./modes/). Nothing here talks to the server while hovering: a click, a placed or
// dropped endpoint reaches the host through send(name, value).
//
// Outside Streamlit: new View(parentElement, {send: (name, value) => ..., upgrade}) and
// view.update(payload) (see ./payload.js); `upgrade` () => Promise of a plane upgrade (see
// ./plane.js), or none: the canvas then draws, pans and zooms the plane itself.

import { element } from "./dom.js";
import { Floating } from "./floating.js";
import { paintDigit } from "./draw.js";
import { fmtZ } from "./geometry.js";
import { listen } from "./input.js";
import { getDecoder, getPoints, inlinePoints, record, shared } from "./loader.js";
import { Manifold } from "./manifold.js";
import { MODES } from "./modes/index.js";
import { checkPayload } from "./payload.js";
import { PICK_PX, Plane } from "./plane.js";

export class View {
  constructor(parent, { send = () => {}, upgrade = null } = {}) {
    this.parent = parent;
    this.send = send;
    this.upgrade = upgrade;
    this.root = element("div", "lp", parent);
    this.data = null;  // the payload
    this.key = null;  // what needs a rebuild when it changes
    this.controller = null;
    this.main = this.dataPlane = null;
    this.moments = {};  // performance.now() when its decoder was ready (for the bench)
    this.cursor = null;  // the spot shown: [z1, z2], or null
    this.pin = null;  // the pinned {index, z}: the payload's (the page's view), or clicked here until it answers
    this.drag = null;  // an endpoint being dragged: {handle, moved}
    this.decoded = null;  // the toy world's decoded point
    this.onReady = null;  // () => ..., once a build has drawn and has its decoder (root's data-ready="1")
    shared.views.add(this);
    this.onBus = (e) => this.linked(e.detail);
    shared.bus.addEventListener("hover", this.onBus);
    this.resizeObserver = new ResizeObserver(() => this.fit());
    this.resizeObserver.observe(parent);
  }

  // The interpolation's state (tests and the bench read these).
  get ends() { return this.controller ? this.controller.ends : undefined; }
  get next() { return this.controller ? this.controller.next : undefined; }

  destroy() {
    shared.views.delete(this);
    shared.bus.removeEventListener("hover", this.onBus);
    this.resizeObserver.disconnect();
    this.teardown();
  }

  // What a build leaves outside its DOM: the window's listener, timers, the planes' renderers.
  teardown() {
    if (this.stopInput) { this.stopInput(); this.stopInput = null; }
    if (this.floating) this.floating.destroy();
    for (const p of [this.main, this.dataPlane]) if (p) p.destroy();
  }

  // --- building --------------------------------------------------------------------------

  update(data) {
    const problem = checkPayload(data);
    if (problem) { this.refuse(data, problem); return; }
    this.problem = null;
    const key = `${data.mode}|${data.model.id}|${data.model.points}|${data.model.extent}|${data.toy ? data.toy.key : ""}`;
    this.data = data;
    if (key !== this.key) { this.key = key; this.build(); return; }
    this.refresh();
  }

  // A payload this plane cannot draw: one console error (not one per rerun) and one line on the page.
  refuse(data, problem) {
    this.data = data !== null && typeof data === "object" ? data : {};
    if (problem === this.problem) return;
    console.error(problem);
    this.problem = problem;
    this.key = null;
    this.teardown();
    this.main = this.dataPlane = this.floating = this.manifold = this.controller = null;
    this.root.replaceChildren();
    this.root.className = "lp lp-invalid";
    delete this.root.dataset.ready;
    const why = problem.replace(/^latent plane[^:]*: /, "");
    element("div", "lp-invalid-note", this.root, { role: "alert" }).textContent = `The plane cannot be drawn: ${why}.`;
  }

  async build() {
    const data = this.data, key = this.key;
    if (this.main && this.main.painted && data.model.points && this.controller instanceof MODES[data.mode]) {
      // A drawn plane of this mode keeps its drawing until the new points are in (a training's
      // next epoch): no blank frame between the two.
      await getPoints(data.model.points).catch(() => {});  // (a failure is reported below)
      if (key !== this.key) return;
    }
    this.teardown();
    this.root.replaceChildren();
    this.root.className = `lp lp-mode-${data.mode}${data.model.decoder ? "" : " lp-no-decoder"}`;
    delete this.root.dataset.ready;  // until this build has drawn
    if (!(this.controller instanceof MODES[data.mode])) this.controller = new MODES[data.mode](this);
    const c = this.controller;
    this.main = this.dataPlane = this.floating = this.manifold = null;
    this.drag = null;
    if (!c.hasPlane) { await c.buildPanel(key); return; }
    const touch = (this.touch = matchMedia("(pointer: coarse)").matches);
    const row = element("div", "lp-row", this.root);
    const planes = element("div", "lp-planes", row);
    const titles = c.titles();
    this.dataPlane = titles.length > 1 ? new Plane(planes, "data", titles[0]) : null;
    this.main = new Plane(planes, "latent", titles[titles.length - 1]);
    this.buildSide(row);
    this.hint = element("div", "lp-hint", this.side);
    c.build(this.side);
    if (!c.showsPreview || !data.model.decoder) this.preview.style.display = "none";  // (no decoder: nothing to show)
    this.floating = new Floating(this.main.stage);
    this.main.note.textContent = "Loading…";
    this.main.onChange = () => this.drawOverlay();
    this.manifold = new Manifold(this.main, this.root);
    // The upgrade, the points and the decoder load side by side; the points alone are enough
    // for the first paint, the decoder for hovering.
    const upgrading = this.upgrade && c.upgrades ? this.upgrade() : null;
    if (upgrading) upgrading.catch(() => {});  // (reported below)
    const decoder = data.model.decoder ? getDecoder(data.model.decoder) : null;
    let points, dataPoints;
    try {
      [points, dataPoints] = await Promise.all([this.loadPoints(), c.dataPoints(), c.prepare()]);
    } catch (e) {
      this.main.note.textContent = `The plane could not be drawn: ${e.message}.`;
      return;
    }
    if (key !== this.key) return;  // a newer build started meanwhile
    this.decoder = null;
    this.fallback = data.model.fallback;
    const size = this.planeSize();
    const common = { markerSize: touch ? 3 : 4, dragmode: touch ? false : "pan", scrollZoom: !touch, modeBar: true,
                     legend: true, size };
    const dataOpts = this.dataPlane && c.dataOptions(common);
    const mainOpts = { ...common, classes: data.model.classes, colors: data.model.colors, extent: data.model.extent,
                       axes: ["z\u2081", "z\u2082"], legend: c.classChips, filename: `${data.mode}-latent-plane`,
                       shade: c.shade(points) };
    if (this.dataPlane) this.dataPlane.paintFirst(dataPoints, dataOpts);
    this.main.paintFirst(points, mainOpts);
    this.main.onMove = (settled) => { settled ? this.computeManifold() : this.paintManifold(); this.drawOverlay(); };
    if (this.dataPlane) this.dataPlane.onMove = (settled) => { if (settled) this.drawOverlay(); };
    this.stopInput = listen(this);
    const decoded = decoder && decoder.then((dec) => {
      if (key !== this.key) return;
      this.decoder = dec;
      this.moments.decoder = performance.now();
      this.main.note.textContent = this.fallback || "";
      this.computeManifold();
      this.refresh();
    }, (e) => {
      if (key !== this.key) return;
      this.fallback = `The decoder could not run in this browser (${e.message}): click the plane to decode a spot on the server.`;
      this.main.note.textContent = this.fallback;
      this.main.note.classList.add("lp-fallback");
    });
    this.main.note.textContent = this.fallback || (decoder ? "Loading the decoder\u2026" : "");
    this.refresh();
    let upgrade = null;
    try {
      upgrade = await upgrading;
    } catch (e) {
      this.main.note.textContent = `${e.message}: the plane is drawn without its toolbar.`;
    }
    if (key !== this.key) return;
    if (upgrade) {
      if (this.dataPlane) await this.dataPlane.takeOver(upgrade);
      await this.main.takeOver(upgrade);
      if (key !== this.key) return;
    } else {
      for (const p of [this.dataPlane, this.main]) if (p) p.ready = true;  // the canvas stays the renderer
    }
    this.fit();
    this.computeManifold();
    this.refresh();
    await decoded;
    if (key !== this.key) return;
    this.markReady();
  }

  // The side panel in `parent`: the decoded image and its readout (a mode's own DOM goes below).
  buildSide(parent) {
    this.side = element("div", "lp-side", parent);
    this.preview = element("canvas", "lp-preview", this.side, { width: 28, height: 28, role: "img" });
    this.readout = element("div", "lp-readout", this.side, { "aria-live": "polite" });
  }

  markReady() {
    this.root.dataset.ready = "1";
    if (this.onReady) this.onReady();
  }

  loadPoints() {
    const data = this.data;
    if (data.model.points) return getPoints(data.model.points);
    if (data.points) return inlinePoints(data.points);
    throw new Error("it was sent no points");
  }

  // The plane's side in CSS pixels: square, as large as the column allows (the side panel goes
  // below the plane on narrow screens and in the modes that want it there).
  planeSize() {
    const width = this.parent.clientWidth || this.root.clientWidth || 600;
    const planes = this.dataPlane ? 2 : 1;
    const beside = this.controller.beside && width >= 640;
    this.root.classList.toggle("lp-beside", beside);
    const room = beside ? width - 236 : width;
    const each = planes === 2 && width >= 520 ? (room - 16) / 2 : room;
    return Math.max(220, Math.floor(Math.min(this.data.height, each)));
  }

  fit() {
    if (!this.main || !this.main.ready) return;
    const size = this.planeSize();
    if (Math.abs(size - this.main.opts.size) < 2) return;
    for (const p of [this.main, this.dataPlane]) if (p) p.resize(size);
    setTimeout(() => { this.computeManifold(); this.drawOverlay(); }, 0);
  }

  // New data for the same model (a pin from Python, other endpoints, marks...).
  refresh() {
    if (!this.controller) return;
    this.pin = this.data.pin || null;
    this.controller.refresh();
  }

  hintText() { return this.data.hint || this.controller.hint(this.touch); }  // a page's own words first

  // --- the pointer's verbs (./input.js) -------------------------------------------------------

  // Decode right in the event handler: the browser already delivers pointer and touch moves once
  // per frame (coalesced), so the next frame shows the spot of the newest event.
  pointAt(px, py, time, source) {
    if (!this.main.inside(px, py)) {
      this.floating.hideThumb();
      return;
    }
    const z = this.main.toZ(px, py);
    this.cursor = z;
    const pixels = this.decode(z);
    this.publish(z, { pixels, decoder: this.data.model.decoder });
    this.showSpot(z, [px, py], source, time, pixels);
  }

  leave() {
    this.floating.hideThumb();
    this.cursor = null;
    this.publish(null);
    this.drawOverlay();
  }

  // A click or tap at a pixel: the visible test point within PICK_PX, else the spot (`exact`: the spot).
  click(px, py, exact) {
    this.controller.click(exact ? { index: null, z: this.main.toZ(px, py) } : this.main.pickAt(px, py, PICK_PX));
  }

  // Start dragging what the controller has within `radius` px of the pointer, if anything.
  grab(px, py, radius) {
    const handle = this.controller.grab(px, py, radius);
    if (handle === null) return false;
    this.drag = { handle, moved: false };
    this.floating.hideThumb();
    return true;
  }

  dragTo(px, py) {
    const drag = this.drag;
    drag.moved = true;
    drag.pending = [px, py];
    drag.time = performance.now();
    if (drag.scheduled) return;
    drag.scheduled = true;
    requestAnimationFrame(() => {
      drag.scheduled = false;
      if (this.drag !== drag) return;
      this.controller.dragTo(drag.handle, ...drag.pending);
      record(shared.stats.drags, performance.now() - drag.time);
    });
  }

  endDrag() {
    const drag = this.drag;
    this.drag = null;
    if (drag.moved) this.controller.drop(drag.handle);
  }

  // Arrow keys: the cursor moves by 2 % of the view (10 % with shift). False: nothing to move.
  moveCursor(dx, dy, big, time) {
    const [xa] = this.main.axes();
    if (!xa) return false;
    const start = this.cursor || (this.pin && this.pin.z) || [0, 0];
    const step = (xa.range[1] - xa.range[0]) * (big ? 0.1 : 0.02);
    const z = [start[0] + dx * step, start[1] + dy * step];
    this.cursor = z;
    this.showSpot(z, this.main.toPx(z), "key", time);
    return true;
  }

  // Enter: a click exactly at the cursor. False: no cursor.
  pinCursor() {
    if (!this.cursor) return false;
    const [px, py] = this.main.toPx(this.cursor);
    this.click(px, py, true);
    return true;
  }

  touchEnded() { this.floating.lifted(this.controller.keepsCorner); }

  // --- decoding and showing ------------------------------------------------------------------

  decode(z) {
    if (!this.decoder) return null;
    const t0 = performance.now(), pixels = this.decoder.decode(z);
    record(shared.stats.decode, performance.now() - t0);
    return pixels;
  }

  // Show the spot z (decoded here unless `decoded` is given) as the controller says, then the
  // overlay; `eventTime` times hover and touch to the painted digit.
  showSpot(z, px, source, eventTime, decoded) {
    const pixels = decoded === undefined ? this.decode(z) : decoded;
    this.controller.showSpot(z, px, source, pixels);
    this.drawOverlay();
    if (eventTime !== undefined) record(source === "touch" ? shared.stats.tap : shared.stats.hover, performance.now() - eventTime);
  }

  // An image mode's way: the side preview, the readout, the thumbnail by the cursor (mouse) or
  // the preview in the plane's corner (touch).
  showImage(z, px, source, pixels) {
    const output = this.decoder && this.decoder.output;
    if (pixels && output) paintDigit(this.preview, pixels, output);
    this.preview.dataset.z = `${z[0]},${z[1]}`;
    this.preview.setAttribute("aria-label", `decoded image at z = ${fmtZ(z)}`);
    this.readout.textContent = source === "pin" ? `Pinned: z = ${fmtZ(z)}` : `z = ${fmtZ(z)}`;
    if (!pixels || !output || !this.floating) return;
    if (px && source === "hover") this.floating.hover(pixels, output, z, px, this.main.opts.size);
    if (source === "touch") this.floating.touch(pixels, output, z, px);
  }

  // Tell the other planes of this view's group (if any) where the pointer is (z null: it left).
  publish(z, extra) {
    if (this.data.group) shared.bus.dispatchEvent(new CustomEvent("hover", { detail: { group: this.data.group, z, from: this, ...extra } }));
  }

  // Another plane of this view's group is hovered at z (or left: z null), or pinned.
  linked(detail) {
    if (detail.from === this || !this.controller || detail.group !== this.data.group) return;
    if (this.controller.hasPlane && !(this.main && this.main.painted)) return;
    if (detail.pin !== undefined) { this.pin = detail.pin; this.controller.pinChanged(); }
    this.cursor = detail.pin ? null : detail.z;
    // the same decoder: take its image instead of decoding the same z twice
    const pixels = detail.decoder && detail.decoder === this.data.model.decoder ? detail.pixels : undefined;
    if (detail.z) this.showSpot(detail.z, null, detail.pin ? "pin" : "linked", undefined, pixels);
    else if (this.pin) this.showSpot(this.pin.z, null, "pin");
    else this.drawOverlay();
  }

  // --- drawing on top of and behind the points -------------------------------------------

  drawOverlay() {
    const plane = this.main;
    if (!plane || !plane.live) return;  // (a preview has no plane)
    const c = plane.ctx();
    plane.clip(c);
    this.controller.overlay(c, plane);
    c.restore();
    if (this.dataPlane && this.dataPlane.live) this.controller.overlayData(this.dataPlane.ctx(), this.dataPlane);
  }

  computeManifold() {
    if (this.manifold) this.manifold.compute(this.decoder && this.controller.wantsManifold() ? this.decoder : null);
  }

  paintManifold() { if (this.manifold) this.manifold.paint(); }
}
