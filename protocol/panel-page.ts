// The panel's HTML: a strict Content-Security-Policy with a per-load nonce, and only the bundle from dist/. Part of
// the host ↔ webview contract (what the page may load), pure so that the extension, the benchmarks and the tests
// build the same page; the caller brings the nonce (fresh random bytes per load).
//
// CSP: default-src 'none' (nothing that is not listed: no fetch/XHR/WebSocket, no frames, no media, no objects);
// script-src 'nonce-…' (only our one bundle, no inline handlers, no eval); style-src ${cspSource} 'nonce-…' (our
// stylesheet dist/webview.css, loaded from the extension's dist/ folder; no 'unsafe-inline' — the UI uses native
// controls styled with VS Code's CSS variables and sets element styles through the CSSOM only, which CSP allows);
// img-src ${cspSource} data: blob: (canvas snapshots/exports); font-src ${cspSource} (codicons if ever needed).
// Only a panel that runs the model itself (backend webgpu/auto, webview/inference/) adds, and only for that:
// script-src 'wasm-unsafe-eval' (compile onnxruntime's .wasm; still no eval of JavaScript), worker-src blob: (the
// inference worker, started from the fetched dist/webview-inference.js), connect-src ${cspSource} (fetch that bundle,
// the .wasm and the model's files — only what localResourceRoots serves: dist/ and that one model folder).
export function contentSecurityPolicy(cspSource: string, nonce: string, inference = false): string {
  return [
    "default-src 'none'",
    inference ? `script-src 'nonce-${nonce}' 'wasm-unsafe-eval'` : `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `img-src ${cspSource} data: blob:`,
    `font-src ${cspSource}`,
    ...(inference ? ['worker-src blob:', `connect-src ${cspSource}`] : []),
  ].join('; ');
}

/** Escapes a string for an HTML attribute value (the URIs and nonce are ours, but never trust a path). */
function attr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function panelHtml(opts: {
  cspSource: string;
  scriptUri: string;
  styleUri: string;
  /** Fresh per load, e.g. randomBytes(18).toString('base64url'). */
  nonce: string;
  /** The panel runs the model in the webview (webview/inference/): allow what that needs. */
  inference?: boolean;
}): string {
  const nonce = opts.nonce;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(contentSecurityPolicy(opts.cspSource, nonce, opts.inference === true))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" nonce="${attr(nonce)}" href="${attr(opts.styleUri)}">
<title>Attention Lens</title>
</head>
<body>
<div id="app"></div>
<script nonce="${attr(nonce)}" src="${attr(opts.scriptUri)}"></script>
</body>
</html>`;
}
