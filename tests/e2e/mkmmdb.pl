#!/usr/bin/perl
#
# mkmmdb.pl: build a small country .mmdb for egressd's tests.
#
# Usage:
#   mkmmdb.pl [--schema maxmind|dbip] [--ip-version 4|6] [--spec FILE]
#             -o OUT.mmdb [CIDR=CC[,REGISTERED_CC] ...]
#
# Each mapping gives a network and the country code stored for it; every
# other address is left out of the database (unknown).  CC "-" stores no
# country: with the maxmind schema "CIDR=-,AT" makes an entry that has
# only registered_country, and "CIDR=-" (or "CIDR=-,-") makes an entry
# with no country at all.  Codes are written as given, so a test can
# store a lower-case or malformed one on purpose.
#
# Schemas:
#   maxmind  {country:{iso_code:CC}, registered_country:{iso_code:RCC}}
#            as GeoIP2/GeoLite2 Country; RCC defaults to CC.
#   dbip     {country_code:CC} as DB-IP Lite / ip-location-db.
#
# --spec FILE reads more mappings: JSON when the file starts with "{",
# an object of CIDR => "CC" or CIDR => {"country": CC,
# "registered_country": RCC}; otherwise TSV, one "CIDR CC [RCC]" a line
# (tabs or spaces), "#" comments and blank lines ignored.
#
# The file has record_size 24 and database_type "egressd-test-Country".
# Reserved networks (loopback, RFC 1918, documentation...) are kept, so
# tests can map 127.0.0.1/32 or ::1/128.  An IPv6 database aliases
# ::ffff:0:0/96 to ::/96 as MaxMind's own files do.
#
# Example:
#   mkmmdb.pl --schema maxmind --ip-version 6 -o t.mmdb \
#       127.0.0.1/32=DE 127.0.0.2/32=RU ::1/128=FR 127.0.0.3/32=-,AT

use strict;
use warnings;

use File::Basename qw(dirname);
use File::Temp qw(tempfile);
use Getopt::Long qw(GetOptions);
use JSON::PP ();
use MaxMind::DB::Writer::Tree;

sub usage {
	print STDERR "usage: mkmmdb.pl [--schema maxmind|dbip] ",
	    "[--ip-version 4|6] [--spec FILE] -o OUT [CIDR=CC[,RCC] ...]\n";
	exit 2;
}

my ($schema, $ipv, $spec, $out) = ('maxmind', 6);
GetOptions(
	'schema=s'     => \$schema,
	'ip-version=i' => \$ipv,
	'spec=s'       => \$spec,
	'o|out=s'      => \$out,
	'h|help'       => sub { usage() },
) or usage();
usage() unless defined $out;
die "mkmmdb: --schema must be maxmind or dbip\n"
    unless $schema eq 'maxmind' || $schema eq 'dbip';
die "mkmmdb: --ip-version must be 4 or 6\n" unless $ipv == 4 || $ipv == 6;

# [cidr, cc or undef, rcc or undef, where, rcc given?] as given.
my @maps;

sub code {
	my ($v, $where) = @_;
	return undef if !defined $v || $v eq '-' || $v eq '';
	die "mkmmdb: $where: bad country code \"$v\"\n" if $v =~ /[\s,]/;
	return $v;
}

sub add {
	my ($cidr, $cc, $rcc, $where) = @_;
	die "mkmmdb: $where: bad network \"$cidr\"\n"
	    unless $cidr =~ m{^[0-9A-Fa-f:.]+/\d{1,3}$};
	push @maps, [ $cidr, code($cc, $where), code($rcc, $where), $where,
	    defined $rcc ];
}

sub read_json {
	my ($file, $text) = @_;
	my $obj = JSON::PP->new->decode($text);
	die "mkmmdb: $file: top level must be an object\n"
	    unless ref $obj eq 'HASH';
	for my $cidr (sort keys %$obj) {
		my $v = $obj->{$cidr};
		if (ref $v eq 'HASH') {
			add($cidr, $v->{country}, $v->{registered_country},
			    "$file: $cidr");
		} else {
			add($cidr, $v, undef, "$file: $cidr");
		}
	}
}

sub read_spec {
	my ($file) = @_;
	open my $fh, '<', $file or die "mkmmdb: $file: $!\n";
	my $text = do { local $/; <$fh> };
	close $fh;
	if ($text =~ /^\s*\{/) {
		read_json($file, $text);
		return;
	}
	my $n = 0;
	for my $line (split /\n/, $text) {
		$n++;
		$line =~ s/#.*//;
		next if $line =~ /^\s*$/;
		my @f = split ' ', $line;
		die "mkmmdb: $file:$n: expected \"CIDR CC [RCC]\"\n"
		    if @f < 2 || @f > 3;
		add($f[0], $f[1], $f[2], "$file:$n");
	}
}

read_spec($spec) if defined $spec;
for my $arg (@ARGV) {
	my ($cidr, $codes) = split /=/, $arg, 2;
	die "mkmmdb: \"$arg\": expected CIDR=CC[,RCC]\n" unless defined $codes;
	my ($cc, $rcc, @rest) = split /,/, $codes, -1;
	die "mkmmdb: \"$arg\": too many codes\n" if @rest;
	add($cidr, $cc, $rcc, "\"$arg\"");
}
die "mkmmdb: no networks given\n" unless @maps;

my %types = (
	country            => 'map',
	registered_country => 'map',
	iso_code           => 'utf8_string',
	country_code       => 'utf8_string',
);

my $tree = MaxMind::DB::Writer::Tree->new(
	ip_version               => $ipv,
	record_size              => 24,
	database_type            => 'egressd-test-Country',
	languages                => ['en'],
	description              => { en => 'egressd test country data' },
	map_key_type_callback    => sub { $types{ $_[0] } },
	remove_reserved_networks => 0,
	alias_ipv6_to_ipv4       => ($ipv == 6 ? 1 : 0),
);

for my $m (@maps) {
	my ($cidr, $cc, $rcc, $where, $rcc_given) = @$m;
	my %rec;
	if ($schema eq 'dbip') {
		die "mkmmdb: $where: registered_country needs --schema "
		    . "maxmind\n" if $rcc_given;
		$rec{country_code} = $cc if defined $cc;
	} else {
		$rcc = $cc unless $rcc_given;
		$rec{country} = { iso_code => $cc } if defined $cc;
		$rec{registered_country} = { iso_code => $rcc }
		    if defined $rcc;
	}
	die "mkmmdb: $where: IPv6 network in an IPv4 database\n"
	    if $ipv == 4 && $cidr =~ /:/;
	eval { $tree->insert_network($cidr, \%rec); 1 }
	    or die "mkmmdb: $where: $@";
}

# Write next to the target and rename, so a reader never sees half a file.
my ($fh, $tmp) = tempfile('.mkmmdb-XXXXXX', DIR => dirname($out));
binmode $fh;
$tree->write_tree($fh);
close $fh or die "mkmmdb: $tmp: $!\n";
# tempfile makes it 0600; the daemon under test may read it as another user.
chmod 0644 & ~umask, $tmp or die "mkmmdb: $tmp: $!\n";
rename $tmp, $out or die "mkmmdb: $out: $!\n";
exit 0;
