/** The support layer every suite above unit tests shares (integration, reliability, e2e). */
export * from './files';
export * from './processes';
export * from './standin';
export * from './waiting';
export * from './pool';
