// The pointer, touch and keys on a view's main plane, turned into the view's verbs: pointAt (decode
// the spot), click, grab/dragTo/endDrag (an endpoint), leave, moveCursor/pinCursor (keys),
// touchEnded. Zooming and panning that no upgrade handles (a canvas-only plane: the wheel, a
// mouse drag; two fingers always) go through plane.setRanges.

import { rangesAt, toZ } from "./geometry.js";

const CLICK_PX = 5, TAP_PX = 10, CLICK_MS = 800;  // how far and how long a press may go and stay a click
const WHEEL_ZOOM = 0.002;  // per pixel of wheel: 100 px zoom by e^0.2

// Listen on view.main's stage; returns a function that stops listening to what outlives the stage.
export function listen(view) {
  const plane = view.main, stage = plane.stage;
  const local = (e) => { const r = stage.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; };
  const onModeBar = (e) => e.target.closest && e.target.closest(".modebar");
  const canvasOnly = () => !plane.upgrade && plane.ready;  // the canvas is the renderer: we pan and zoom it
  let down = null, touchDown = null, pinch = null, pan = null;

  // A pan or zoom, once a frame (the newest ranges win).
  let nextRanges = null;
  const setRanges = (ranges) => {
    const scheduled = nextRanges !== null;
    nextRanges = ranges;
    if (!scheduled) requestAnimationFrame(() => { const [x, y] = nextRanges; nextRanges = null; plane.setRanges(x, y); });
  };
  // The geometry now (the ranges of a pan or zoom not drawn yet included), as a copy: the axes
  // objects change under a gesture.
  const snapshot = () => plane.axes().map((a, k) => ({ range: (nextRanges ? nextRanges[k] : a.range).slice(),
                                                        _offset: a._offset, _length: a._length }));
  const span = (axes) => axes.map((a) => a.range[1] - a.range[0]);

  stage.addEventListener("pointermove", (e) => {
    if (e.pointerType === "touch") return;
    const [px, py] = local(e);
    if (view.drag) { view.dragTo(px, py); return; }
    if (pan) {
      if (Math.hypot(px - pan.px, py - pan.py) >= CLICK_PX) pan.moved = true;
      if (pan.moved) { setRanges(rangesAt(pan.axes, pan.anchor, px, py, ...pan.span)); return; }
    }
    view.pointAt(px, py, e.timeStamp, "hover");
  });
  stage.addEventListener("pointerleave", (e) => {
    if (e.pointerType === "touch" || view.drag || pan) return;
    view.leave();
  });
  stage.addEventListener("pointerdown", (e) => {
    if (e.pointerType === "touch" || onModeBar(e) || e.button !== 0) return;
    const [px, py] = local(e);
    down = { px, py, t: e.timeStamp };
    if (view.grab(px, py, 14)) {
      stage.setPointerCapture(e.pointerId);
      e.preventDefault(); e.stopPropagation();  // Plotly must not start a pan
    } else if (canvasOnly() && plane.inside(px, py)) {
      const axes = snapshot();
      pan = { px, py, axes, anchor: toZ(axes, px, py), span: span(axes), moved: false };
      stage.setPointerCapture(e.pointerId);
    }
  }, true);
  stage.addEventListener("mousedown", (e) => { if (view.drag) e.stopPropagation(); }, true);
  // On window: during a pan Plotly lays a cover over the page, which then gets the pointerup.
  const onUp = (e) => {
    if (e.pointerType === "touch" || !down) return;
    const [px, py] = local(e), start = down, panned = pan && pan.moved;
    down = null;
    pan = null;
    if (view.drag) { view.endDrag(); return; }
    if (!panned && Math.hypot(px - start.px, py - start.py) < CLICK_PX && e.timeStamp - start.t < CLICK_MS && plane.inside(px, py)) {
      view.click(px, py);
    }
  };
  window.addEventListener("pointerup", onUp, true);
  stage.addEventListener("wheel", (e) => {
    if (!canvasOnly()) return;  // (Plotly zooms on its own)
    const [px, py] = local(e);
    if (!plane.inside(px, py)) return;
    e.preventDefault();
    const axes = snapshot(), [w, h] = span(axes), scale = Math.exp(e.deltaY * (e.deltaMode === 1 ? 16 : 1) * WHEEL_ZOOM);
    setRanges(rangesAt(axes, toZ(axes, px, py), px, py, w * scale, h * scale));
  }, { passive: false });
  stage.addEventListener("keydown", (e) => {
    const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
    if (moves[e.key] ? view.moveCursor(...moves[e.key], e.shiftKey, e.timeStamp)
        : (e.key === "Enter" || e.key === " ") && view.pinCursor()) e.preventDefault();
  });

  // Touch: one finger explores (or drags an endpoint), two fingers pan and zoom. The listeners
  // sit on the stage in the capture phase, so Plotly's own drag never sees these touches.
  const startPinch = (e) => {
    if (!plane.ready) return;  // not before the plane's final renderer has drawn
    const [a, b] = [e.touches[0], e.touches[1]];
    const [mx, my] = local({ clientX: (a.clientX + b.clientX) / 2, clientY: (a.clientY + b.clientY) / 2 });
    const axes = snapshot();
    pinch = { dist: Math.hypot(a.clientX - b.clientX, a.clientY - b.clientY) || 1, anchor: toZ(axes, mx, my), axes,
              span: span(axes) };
    view.drag = null;
    touchDown = null;
  };
  const movePinch = (e) => {
    if (e.touches.length < 2) return;
    const [a, b] = [e.touches[0], e.touches[1]];
    const scale = pinch.dist / (Math.hypot(a.clientX - b.clientX, a.clientY - b.clientY) || 1);
    const [mx, my] = local({ clientX: (a.clientX + b.clientX) / 2, clientY: (a.clientY + b.clientY) / 2 });
    // the data point under the fingers' first midpoint stays under their midpoint now
    setRanges(rangesAt(pinch.axes, pinch.anchor, mx, my, pinch.span[0] * scale, pinch.span[1] * scale));
  };
  stage.addEventListener("touchstart", (e) => {
    if (onModeBar(e)) return;
    e.preventDefault(); e.stopPropagation();
    if (e.touches.length >= 2) { startPinch(e); return; }
    const [px, py] = local(e.touches[0]);
    touchDown = { px, py, t: e.timeStamp, moved: false };
    if (!view.grab(px, py, 22)) view.pointAt(px, py, e.timeStamp, "touch");
  }, { capture: true, passive: false });
  stage.addEventListener("touchmove", (e) => {
    if (onModeBar(e)) return;
    e.preventDefault(); e.stopPropagation();
    if (pinch) { movePinch(e); return; }
    if (e.touches.length >= 2) return;
    const [px, py] = local(e.touches[0]);
    if (touchDown && Math.hypot(px - touchDown.px, py - touchDown.py) > TAP_PX) touchDown.moved = true;
    if (view.drag) view.dragTo(px, py);
    else view.pointAt(px, py, e.timeStamp, "touch");
  }, { capture: true, passive: false });
  const end = (e) => {
    if (onModeBar(e)) return;
    e.preventDefault(); e.stopPropagation();
    if (pinch) { if (e.touches.length === 0) pinch = null; return; }
    const start = touchDown;
    touchDown = null;
    if (view.drag) { view.endDrag(); return; }
    if (start && !start.moved && e.timeStamp - start.t < CLICK_MS && plane.inside(start.px, start.py)) view.click(start.px, start.py);
    view.touchEnded();
  };
  stage.addEventListener("touchend", end, { capture: true, passive: false });
  stage.addEventListener("touchcancel", end, { capture: true, passive: false });
  return () => window.removeEventListener("pointerup", onUp, true);
}
