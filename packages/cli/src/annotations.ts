/** kubectl apply's record of the configuration it last applied, kept on the object. */
export const lastAppliedAnnotation = 'kubectl.kubernetes.io/last-applied-configuration';
