// Wire shapes of the objects the page reads that @peapod/api does not type (yet): Services,
// Endpoints and EndpointSlices, as Kubernetes sends them. Only the fields the page shows.

import type { KubeObject, ObjectReference } from '@peapod/api';

export interface Service extends KubeObject {
  spec?: {
    type?: string;
    clusterIP?: string;
    selector?: Record<string, string>;
    ports?: { name?: string; port: number; targetPort?: number | string; nodePort?: number; protocol?: string }[];
  };
}

interface EndpointAddress {
  ip: string;
  targetRef?: ObjectReference;
}

export interface Endpoints extends KubeObject {
  subsets?: { addresses?: EndpointAddress[]; notReadyAddresses?: EndpointAddress[] }[];
}

export interface EndpointSlice extends KubeObject {
  endpoints?: {
    addresses?: string[];
    conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
    targetRef?: ObjectReference;
    nodeName?: string;
  }[];
}
