// The figures' theme in the panel: VS Code's colour variables (light, dark, high contrast), masked cells hatched,
// the workbench font, and text measured with a canvas in that font (so that label columns fit what is painted).
// Read again when the theme changes (main.ts calls restyle on every view).
import type { Rgb } from '../../figures/scene';
import type { FigureTheme } from '../../figures/theme';
import { cssToRgba, themeColor } from '../dom';

function rgb(name: string, fallback: string): Rgb {
  const [r, g, b] = cssToRgba(themeColor(name, fallback));
  return [r, g, b];
}

let cached: { key: string; theme: FigureTheme } | undefined;

export function panelTheme(): FigureTheme {
  const key = `${document.body.className}|${themeColor('--vscode-editor-background', '')}`;
  if (cached?.key === key) return cached.theme;
  const fontFamily = themeColor('--vscode-font-family', 'sans-serif');
  const ctx = document.createElement('canvas').getContext('2d');
  const widths = new Map<string, number>();
  let fontSize = 0;
  const measure = (text: string, size: number): number => {
    const k = `${size}|${text}`;
    let w = widths.get(k);
    if (w === undefined) {
      if (ctx) {
        // Setting a font parses it: only when the size changes.
        if (size !== fontSize) {
          ctx.font = `${size}px ${fontFamily}`;
          fontSize = size;
        }
        w = ctx.measureText(text).width;
      } else w = text.length * size * 0.6;
      if (widths.size > 20000) widths.clear();
      widths.set(k, w);
    }
    return w;
  };
  const theme: FigureTheme = {
    background: rgb('--vscode-editor-background', '#1e1e1e'),
    ink: rgb('--vscode-foreground', '#cccccc'),
    muted: rgb('--vscode-descriptionForeground', '#999999'),
    rule: rgb('--vscode-editorWidget-border', '#454545'),
    frame: rgb('--vscode-descriptionForeground', '#999999'),
    masked: rgb('--vscode-editorWidget-background', '#252526'),
    hatch: rgb('--vscode-disabledForeground', '#888888'),
    focus: rgb('--vscode-focusBorder', '#0078d4'),
    fontFamily,
    measure,
  };
  cached = { key, theme };
  return theme;
}
