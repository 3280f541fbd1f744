// "Make a 4": ten class buttons that draw new images of a class in the browser with the shipped
// conditional VAE's decoder (its input is a style z followed by the class, one-hot). The styles
// are drawn as vae_core.room.room_styles draws them, so a seed makes the same images here as there.

import { getDecoder } from "../loader.js";
import { paintDigit } from "../draw.js";
import { roomStyles } from "../random.js";

const PER_PRESS = 16;

// Images of class `label`: the decoder of `url` fed [z, one-hot(label)] for `count` styles of `seed`.
async function makeClass(url, label, count, seed, temperature) {
  const decoder = await getDecoder(url);
  const styles = roomStyles(seed, count), dim = decoder.latentDim, images = [];
  for (let k = 0; k < count; k++) {
    const z = Array.from(styles.subarray(k * dim, (k + 1) * dim), (v) => temperature * v);
    images.push(decoder.decode(z, label));  // (the decoder adds the one-hot class)
  }
  return images;
}

// What was made, in words, as the app's Generate page says it: "16 new 4s", "16 new Bag images".
function madeWords(manifest, name) {
  return manifest.dataset === "mnist" ? `${PER_PRESS} new ${name}s` : `${PER_PRESS} new ${name} images`;
}

// The buttons and the grid of what they made, in `buttons` and `grid`.
export function classButtons(manifest, conditionalUrl, buttons, grid, hint) {
  let presses = 0;
  const size = { width: 28, height: 28 };
  const canvases = Array.from({ length: PER_PRESS }, () => {
    const canvas = document.createElement("canvas");
    canvas.width = 28; canvas.height = 28;
    grid.appendChild(canvas);
    return canvas;
  });
  manifest.classes.forEach((name, label) => {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = name;
    button.title = `Make new images of ${name}`;
    button.setAttribute("aria-pressed", "false");
    button.addEventListener("click", async () => {
      for (const b of buttons.children) b.setAttribute("aria-pressed", String(b === button));
      const seed = (Date.now() ^ (presses++ * 0x9e3779b1)) >>> 0;  // new images on every press
      try {
        const images = await makeClass(conditionalUrl, label, PER_PRESS, seed, manifest.temperature);
        images.forEach((pixels, k) => paintDigit(canvases[k], pixels, size));
        grid.dataset.label = String(label);
        grid.dataset.seed = String(seed);
        grid.setAttribute("aria-label", madeWords(manifest, name));
        hint.textContent = `${madeWords(manifest, name)} \u00b7 press again for others`;
      } catch (e) {
        hint.textContent = `The images could not be made in this browser (${e.message}).`;
      }
    });
    buttons.appendChild(button);
  });
}
