-- One database per service instance (Settings.instance_name: measures, notifications,
-- participation_<slug with '-' as '_'>, gateway). The gateway processes keep no state;
-- their shared database holds the staff accounts and sessions.
-- Runs only when the postgres volume is first initialised: a town added later needs
-- its CREATE DATABASE run by hand (and a line here for fresh installs).
CREATE DATABASE measures;
CREATE DATABASE notifications;
CREATE DATABASE gateway;
CREATE DATABASE participation_soest;
CREATE DATABASE participation_arnsberg;
CREATE DATABASE participation_bad_berleburg;
CREATE DATABASE participation_menden;
CREATE DATABASE participation_olpe;
