/*
 * version.h — netcon's version, defined here once (`netcon --version` prints it).
 */
#ifndef NETCON_VERSION_H
#define NETCON_VERSION_H

#define NETCON_VERSION "0.1.0"

#endif /* NETCON_VERSION_H */
