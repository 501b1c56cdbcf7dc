/** A tree row as data: the VS Code glue turns it into a `TreeItem` and tests read it as a user would. */
export interface IconSpec {
  /** A codicon id, `~spin` included. */
  id: string;
  /** A theme color id. */
  color?: string;
}

export interface Row {
  /** Stable across refreshes, so VS Code keeps selection and expansion. */
  id: string;
  label: string;
  description: string;
  tooltip: string;
  icon: IconSpec;
  contextValue: string;
  collapsible?: 'collapsed' | 'expanded';
}
