// Compare: planes of one `group` (AE vs VAE, Your digit) hover together, each decoding the same
// z with its own model; `marks` are drawn as crosses.

import { Controller } from "./controller.js";

export class Compare extends Controller {
  get beside() { return false; }

  hint() { return "Point at either plane: both models decode the same z."; }
}
