// The room page (index.html): one model's latent plane for a whole lecture hall. Everything runs
// in this browser: the page reads room.json (vae_core.room.RoomManifest), draws the test set's
// codes, decodes the spot under the finger, walks from A to B and makes images of a class. The
// server only sends files: nothing is ever sent back.
//
// For tests and benchmarks, <html> gets data-tap-ready="1" once a tap decodes, and
// data-complete="1" once the class buttons' decoder is loaded too.

import { COLORS } from "../colors.js";
import { View } from "../view.js";
import { checkRecord } from "../payload.js";
import { getDecoder } from "../loader.js";
import { classButtons } from "./classes.js";

const part = (name) => document.querySelector(`[data-room="${name}"]`);
document.documentElement.style.setProperty("--accent", COLORS.pick);  // (room.css: the pressed class button)

function fail(message) {
  const box = part("error");
  box.textContent = message;
  box.hidden = false;
  document.getElementById("room").removeAttribute("aria-busy");
}

async function readManifest() {
  const answer = await fetch("room.json", { cache: "no-cache" });
  if (!answer.ok) throw new Error(`the server answered ${answer.status}`);
  return answer.json();
}

// The projector view (the server's /room/projector): the invitation's QR code and address, large.
function showInvitation(invitation) {
  document.getElementById("room").classList.add("room-projector");
  const box = part("invite");
  if (invitation.address && invitation.qr) {
    part("qr").src = invitation.qr;
    part("address").textContent = invitation.address;
  } else {
    part("qr").remove();
    part("address").classList.add("room-address-missing");
    part("address").textContent = "No invitation yet: press \u201cInvite the room\u201d in the app's sidebar.";
  }
  box.hidden = false;
}

function planeHeight() {
  // the plane and its digit fit the screen together: the digit panel below takes about 130 px
  const wide = window.innerWidth >= 900;
  return Math.max(240, Math.floor(wide ? window.innerHeight - 170 : Math.min(window.innerWidth - 20, window.innerHeight - 250)));
}

async function boot() {
  if (window.__roomProjector) showInvitation(window.__roomProjector);
  let manifest;
  try {
    manifest = await readManifest();
  } catch (e) {
    fail(`The room could not be loaded (${e.message}). Reload the page to try again.`);
    return;
  }
  const problem = checkRecord("manifest", manifest);
  if (problem) {
    console.error(`room.json ${problem}`);
    fail("This room's description is not one this page can read: ask for the room's address again.");
    return;
  }
  const url = (name) => new URL(name, document.baseURI).href;
  part("title").textContent = manifest.title;
  document.title = `${manifest.title} \u00b7 VAE room`;
  const model = { id: manifest.id, decoder: url(manifest.decoder), points: url(manifest.points), fallback: null,
                  classes: manifest.classes, colors: manifest.colors, extent: manifest.extent };
  const view = new View(part("plane"), { send: () => {} });  // nothing goes back to the server
  const tapReady = new Promise((resolve) => {
    view.onReady = () => { document.documentElement.dataset.tapReady = "1"; resolve(); };
  });
  const payload = { mode: "room", model, tool: "explore", height: planeHeight(), title: null, hint: null,
                    method: "linear", steps: 10 };
  view.update(payload);

  const tools = document.querySelectorAll(".room-tools button");
  const make = part("make"), stage = part("plane");
  for (const button of tools) {
    button.addEventListener("click", () => {
      const tool = button.dataset.tool;
      for (const b of tools) b.setAttribute("aria-selected", String(b === button));
      make.hidden = tool !== "make";
      stage.hidden = tool === "make";
      if (tool !== "make") view.update({ ...payload, tool });
    });
  }
  const makeButton = document.querySelector('.room-tools [data-tool="make"]');
  makeButton.textContent = manifest.dataset === "mnist" ? "Make a digit" : "Make an image";
  if (manifest.conditional) {
    classButtons(manifest, url(manifest.conditional), part("classes"), part("made"), part("make-hint"));
    Promise.all([getDecoder(url(manifest.conditional)), tapReady]).then(
      () => { document.documentElement.dataset.complete = "1"; },
      (e) => { part("make-hint").textContent = `The class buttons could not load their decoder (${e.message}).`; });
  } else {
    makeButton.remove();  // no conditional model of this dataset: no class buttons
    tapReady.then(() => { document.documentElement.dataset.complete = "1"; });
  }
  document.getElementById("room").removeAttribute("aria-busy");
}

boot();
