// Package transport is the HTTP side of talking to a registry: the base
// transport below go-containerregistry's authentication layers (credential
// guard, token realms on private addresses, stall watchdog, replay of
// request bodies, debug log), credentials from keychains, the cache of
// authenticated clients, and retries. It knows nothing of the operations
// built on it.
package transport
