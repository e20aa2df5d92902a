#!/usr/bin/env python3
# Adds lock entries for optional platform packages the registry mirror lacks,
# marked with their os/cpu so npm ci skips them on this platform.
import json, re, sys
path = sys.argv[1]
lock = json.load(open(path))
pk = lock['packages']
added = []
for key, entry in list(pk.items()):
    for name, version in (entry.get('optionalDependencies') or {}).items():
        k = 'node_modules/' + name
        if k in pk: continue
        m = re.search(r'(android|darwin|linux|win32|freebsd)-(arm64|x64|arm|ia32)(-(musl|gnu))?$', name)
        if not m: continue
        stub = {'version': version, 'os': [m.group(1)], 'cpu': [m.group(2)], 'optional': True}
        if m.group(4): stub['libc'] = ['musl' if m.group(4) == 'musl' else 'glibc']
        if entry.get('dev'): stub['dev'] = True
        pk[k] = stub
        added.append(name)
lock['packages'] = dict(sorted(pk.items(), key=lambda kv: (kv[0] != '', kv[0])))
json.dump(lock, open(path, 'w'), indent=2)
open(path, 'a').write('\n')
print('stubbed', len(added), added)
