// Text from models, folders, Hub ids and documents shown where VS Code reads `$(name)` as an icon: status bar items
// and Quick Pick labels, descriptions and details. A folder named `$(bug) model` or a token `$(x)` must show as typed,
// never as an icon (or vanish, for a name VS Code has no icon for).

/** What VS Code's label renderer (renderLabelWithIcons) takes for an icon: `$(` name, an optional `~modifier`, `)`. */
const ICON = /\$\((?=[A-Za-z0-9-]+(?:~[A-Za-z]+)?\))/g;

/** Each icon-shaped `$(…)` gets a backslash, which the renderer drops, showing the text `$(…)`; nothing else changes. */
export function escapeIcons(text: string): string {
  return text.replace(ICON, '\\$(');
}
