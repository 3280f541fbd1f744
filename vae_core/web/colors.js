// The colours of every latent plane and of the app's pictures, defined here once. Python reads
// this same literal (vae_core/images.py, plane_colors): keep it strict JSON.
//   pick      the picked point's ring, the posterior's ellipses, marks (vermillion: stands out on every class)
//   a, b      an interpolation's endpoints
//   ink       the cursor, paths, crosses
//   above     the outline of a scores plane's points above the threshold (and the histogram's threshold)
//   palette   one colour per class: Paul Tol's "muted" scheme, distinct under colour-vision deficiencies,
//             its pale grey swapped for a darker one so the tenth class stays visible on white
//   scores    a per-image score's colour scale, [stop, colour] from low (0) to high (1): Plotly's
//             "Viridis" (plotly.colors.PLOTLY_SCALES), perceptually uniform and colour-blind safe
export const COLORS = {
  "pick": "#D55E00",
  "a": "#117733",
  "b": "#AA3377",
  "ink": "#000000",
  "above": "#000000",
  "palette": ["#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677", "#882255", "#AA4499",
              "#777777"],
  "scores": [[0.0, "#440154"], [0.06274509803921569, "#48186a"], [0.12549019607843137, "#472d7b"],
             [0.18823529411764706, "#424086"], [0.25098039215686274, "#3b528b"], [0.3137254901960784, "#33638d"],
             [0.3764705882352941, "#2c728e"], [0.4392156862745098, "#26828e"], [0.5019607843137255, "#21918c"],
             [0.5647058823529412, "#1fa088"], [0.6274509803921569, "#28ae80"], [0.6901960784313725, "#3fbc73"],
             [0.7529411764705882, "#5ec962"], [0.8156862745098039, "#84d44b"], [0.8784313725490196, "#addc30"],
             [0.9411764705882353, "#d8e219"], [1.0, "#fde725"]]
};
