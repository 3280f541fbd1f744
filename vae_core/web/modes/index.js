// The modes a latent plane knows: payload.mode -> its controller. A new mode is one controller
// file, one line here and its fields in ../payload.js.

import { Beta } from "./beta.js";
import { Closeup } from "./closeup.js";
import { Compare } from "./compare.js";
import { Explore } from "./explore.js";
import { Inside } from "./inside.js";
import { Interpolate } from "./interpolate.js";
import { Preview } from "./preview.js";
import { Room } from "./room.js";
import { Scores } from "./scores.js";
import { Toy } from "./toy.js";

export const MODES = { explore: Explore, interpolate: Interpolate, compare: Compare, toy: Toy, preview: Preview, room: Room,
                       inside: Inside, beta: Beta, closeup: Closeup, scores: Scores };
