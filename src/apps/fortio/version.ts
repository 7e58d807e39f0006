/** The fortio release this stand-in answers as (version strings, user agent, server banners). */
export const FORTIO_VERSION = '1.60.3';
export const USER_AGENT = `fortio.org/fortio-${FORTIO_VERSION}`;
