// The options every command that runs a model on one input takes (`run`, `export`), declared once for parseArgs.
export const INPUT_OPTIONS = {
  model: { type: 'string' },
  text: { type: 'string' },
  file: { type: 'string' },
  backend: { type: 'string' },
  threads: { type: 'string' },
  truncate: { type: 'boolean' },
  'max-input-mb': { type: 'string' },
} as const;
