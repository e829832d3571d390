#!/bin/sh
# One-shot: the namespace and a2p-registrar's search attributes (Keyword), idempotently.
set -eu
: "${TEMPORAL_ADDRESS:?}" "${TEMPORAL_NAMESPACE:=default}"
until temporal operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1; do sleep 1; done
temporal operator namespace describe --namespace "$TEMPORAL_NAMESPACE" --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1 ||
  temporal operator namespace create --namespace "$TEMPORAL_NAMESPACE" --retention 30d --address "$TEMPORAL_ADDRESS"
for name in A2PPhase A2PFlow A2PIsvCustomerId A2PBrandStatus A2PIdentityStatus A2PCampaignStatus A2PBrandSid A2PCampaignSid; do
  temporal operator search-attribute create --namespace "$TEMPORAL_NAMESPACE" --name "$name" --type Keyword \
    --address "$TEMPORAL_ADDRESS" 2>/dev/null || true
done
echo "namespace $TEMPORAL_NAMESPACE ready"
