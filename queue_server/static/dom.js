// DOM helpers for the queue server's pages: elements are built with textContent, never innerHTML,
// so any text from the server (a service name, a device's error) stays text.
"use strict";
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) { node.setAttribute(name, String(value)); }
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(child == null ? "" : String(child)));
  }
  return node;
}
function replaceChildren(id, nodes) { document.getElementById(id).replaceChildren(...nodes); }
