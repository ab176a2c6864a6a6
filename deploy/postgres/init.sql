-- One database per service (ARCHITECTURE.md: each service owns its database).
CREATE DATABASE catalog;
CREATE DATABASE cart_quote;
CREATE DATABASE orders;
CREATE DATABASE billing;
CREATE DATABASE license_assign;
CREATE DATABASE notifications;
CREATE DATABASE gateway;
