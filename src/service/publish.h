/*
 * publish.h — ports of the host that lead into the virtual network (publish.c).
 */
#ifndef NETCON_PUBLISH_H
#define NETCON_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

struct nc_service;
struct nc_handler;

/* Open every --publish socket; 0, or a negative errno with one line in err. */
int nc_publish_start(struct nc_service *svc, char *err, size_t errlen);
void nc_publish_event(struct nc_service *svc, struct nc_handler *h, uint32_t events);
/* `netcon status` lines; the bytes written. */
size_t nc_publish_status(struct nc_service *svc, char *buf, size_t len);
void nc_publish_stop(struct nc_service *svc);

#endif /* NETCON_PUBLISH_H */
