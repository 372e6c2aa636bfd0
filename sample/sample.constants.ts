/** The group every instance of the sample joins, and whose leader runs the report. */
export const SAMPLE_GROUP = 'sample-instances';
/** The group over which the work items are split. */
export const ITEMS_GROUP = 'sample-items';
