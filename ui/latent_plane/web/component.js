// The Streamlit entry of the live latent plane (ui/latent_plane/__init__.py mounts it): one View
// of vae_core/web per element, drawn from the JSON bytes Python sends, upgraded to Plotly, and
// Streamlit's setTriggerValue as the way back (a pick, the endpoints).
//
// Streamlit serves this folder, vae_core/web and plotly's files side by side under
// /_stcore/bidi-components/ (assets.py), so the imports below are relative.

import { View } from "../vae_explorer.plane_web/view.js";
import { plotlyUpgrade } from "./plotly.js";

const views = new WeakMap();  // parentElement -> its View, across the element's reruns

export default function (component) {
  const { parentElement, setTriggerValue } = component;
  const data = JSON.parse(new TextDecoder().decode(component.data));  // JSON bytes (see latent_plane())
  let view = views.get(parentElement);
  if (!view) { view = new View(parentElement, { send: setTriggerValue, upgrade: plotlyUpgrade }); views.set(parentElement, view); }
  view.send = setTriggerValue;
  view.update(data);
  return () => { view.destroy(); views.delete(parentElement); };
}
