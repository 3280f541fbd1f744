// Building the plane's DOM: one element at a time.

// A new <tag> with a class and attributes, appended to `parent` when given.
export function element(tag, className, parent, attrs) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (attrs) for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}
