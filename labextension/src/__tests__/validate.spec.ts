import {
  buildCreateRequest,
  CUSTOM_PATH,
  fieldOfError,
  ICreateForm,
  IValidationContext,
  specName,
  splitList,
  targetPath,
  validateCreate
} from '../validate';
import { makeSiteInfo } from './fixtures';

const site = makeSiteInfo();

/**
 * A valid form, with some values replaced.
 */
function makeForm(overrides: Partial<ICreateForm> = {}): ICreateForm {
  return {
    name: 'analysis',
    location: '',
    customPath: '',
    engine: 'rattler',
    python: '',
    packages: '',
    pipPackages: '',
    channels: '',
    spec: null,
    kernel: true,
    displayName: '',
    modules: false,
    formats: ['lua'],
    dependencies: [],
    ...overrides
  };
}

/**
 * The messages for a form.
 */
function check(
  overrides: Partial<ICreateForm>,
  context: Partial<IValidationContext> = {}
): { [field: string]: string } {
  return validateCreate(makeForm(overrides), {
    existingNames: [],
    site,
    ...context
  });
}

describe('splitList', () => {
  it('splits on spaces, commas and new lines', () => {
    expect(splitList('numpy scipy,pandas\nxarray, dask\r\n\n  ')).toEqual([
      'numpy',
      'scipy',
      'pandas',
      'xarray',
      'dask'
    ]);
    expect(splitList('')).toEqual([]);
    expect(splitList(' , \n')).toEqual([]);
  });

  it('keeps a version constraint with its name', () => {
    expect(splitList('numpy>=1.26,<2 scipy')).toEqual([
      'numpy>=1.26,<2',
      'scipy'
    ]);
    expect(splitList('numpy >=1.26,<2 scipy')).toEqual([
      'numpy >=1.26,<2',
      'scipy'
    ]);
    expect(splitList('numpy >=1.26, <2')).toEqual(['numpy >=1.26,<2']);
    expect(splitList('requests >= 2.31 flask')).toEqual([
      'requests >= 2.31',
      'flask'
    ]);
    expect(splitList('python 3.11.* *_cpython')).toEqual([
      'python 3.11.* *_cpython'
    ]);
    expect(splitList('numpy 1.26 4ti2')).toEqual(['numpy 1.26', '4ti2']);
    expect(splitList('conda-forge::numpy numpy=1.26.4=py311h_0')).toEqual([
      'conda-forge::numpy',
      'numpy=1.26.4=py311h_0'
    ]);
  });

  it('keeps a pip requirement with a marker or URL whole', () => {
    expect(
      splitList(
        'pkg; python_version < "3.12"\nother @ https://host/other-1.0-py3-none-any.whl\nrequests'
      )
    ).toEqual([
      'pkg; python_version < "3.12"',
      'other @ https://host/other-1.0-py3-none-any.whl',
      'requests'
    ]);
  });

  it('drops comments', () => {
    expect(splitList('# tools\nnumpy # arrays\nscipy')).toEqual([
      'numpy',
      'scipy'
    ]);
  });
});

describe('validateCreate', () => {
  it('accepts a valid form', () => {
    expect(check({})).toEqual({});
  });

  it('requires a name', () => {
    expect(check({ name: '' }).name).toBe('Give the environment a name.');
    expect(check({ name: '   ' }).name).toBe('Give the environment a name.');
  });

  it('checks the name with the rule of the server', () => {
    for (const bad of ['.hidden', '-x', 'has space', 'a/b', 'é']) {
      expect(check({ name: bad }).name).toContain(
        "use 1 to 64 letters, digits, '.', '_' or '-', not starting with '.' or '-'"
      );
    }
    expect(check({ name: 'x'.repeat(65) }).name).toContain('65 characters');
    for (const good of ['a', '_x', 'env-1.2_b', 'x'.repeat(64)]) {
      expect(check({ name: good }).name).toBeUndefined();
    }
  });

  it('refuses a name already used in the default root', () => {
    const errors = check({ name: 'old' }, { existingNames: ['old'] });
    expect(errors.name).toBe(
      'An environment called old already exists in /home/alice/envs. Choose another name.'
    );
    expect(
      check(
        { name: 'old', location: '/home/alice/envs' },
        { existingNames: ['old'] }
      ).name
    ).toBeDefined();
    // Another root is another directory.
    expect(
      check(
        { name: 'old', location: '/shared/envs' },
        { existingNames: ['old'] }
      ).name
    ).toBeUndefined();
  });

  it('refuses a path where an environment already is', () => {
    const existingPaths = ['/shared/envs/team', '/home/alice/proj/env/'];
    expect(
      check({ name: 'team', location: '/shared/envs/' }, { existingPaths }).name
    ).toBe(
      'An environment called team already exists in /shared/envs/. Choose another name.'
    );
    // Paths tell the roots apart: a name used in another root is free here.
    expect(
      check({ name: 'team' }, { existingPaths, existingNames: ['team'] }).name
    ).toBeUndefined();
    expect(
      check(
        { location: CUSTOM_PATH, customPath: '/home/alice/proj/env' },
        { existingPaths }
      ).path
    ).toBe(
      'An environment already exists at /home/alice/proj/env. Choose another path.'
    );
  });

  it('requires an absolute or ~ path for another path', () => {
    expect(check({ location: CUSTOM_PATH, customPath: '' }).path).toBe(
      "Give the environment's directory: an absolute path or one starting with ~."
    );
    expect(check({ location: CUSTOM_PATH, customPath: 'envs/x' }).path).toBe(
      "'envs/x' is relative: give an absolute path or one starting with ~."
    );
    expect(
      check({ location: CUSTOM_PATH, customPath: '/a/b\u0007' }).path
    ).toContain('control characters');
    expect(check({ location: CUSTOM_PATH, customPath: '~/envs/x' })).toEqual(
      {}
    );
    expect(check({ location: CUSTOM_PATH, customPath: '/x/y' })).toEqual({});
    // The name box does not count with another path.
    expect(
      check({ location: CUSTOM_PATH, customPath: '/x/y', name: '' }).name
    ).toBeUndefined();
  });

  it('checks the Python version', () => {
    expect(check({ python: '3.12' }).python).toBeUndefined();
    expect(check({ python: '3' }).python).toBeUndefined();
    expect(check({ python: ' 3.11.4 ' }).python).toBeUndefined();
    expect(check({ python: '' }).python).toBeUndefined();
    expect(check({ python: '3.x' }).python).toBe(
      "Invalid Python version '3.x'; use a version like '3', '3.11' or '3.11.4'."
    );
    expect(check({ python: '3.11.4.1' }).python).toBeDefined();
    expect(check({ python: 'python3' }).python).toBeDefined();
  });

  it('refuses options and control characters in package lists', () => {
    expect(check({ packages: 'numpy --force' }).packages).toBe(
      "'--force' is an option, not a conda package spec; options are not accepted."
    );
    expect(check({ packages: 'numpy\u0001' }).packages).toContain(
      'control character'
    );
    expect(check({ pipPackages: '-e .' }).pip_packages).toBe(
      "'-e' is an option, not a pip requirement; options are not accepted."
    );
    expect(
      check({ pipPackages: 'pkg; python_version < "3.12" --no-deps' })
        .pip_packages
    ).toContain('pip options');
    expect(
      check({ packages: 'numpy>=1.26 scipy', pipPackages: 'requests' })
    ).toEqual({});
  });

  it('checks channels', () => {
    for (const good of [
      'conda-forge',
      'bioconda conda-forge/label/dev',
      'https://conda.example.org/main',
      'file:///srv/channel'
    ]) {
      expect(check({ channels: good }).channels).toBeUndefined();
    }
    expect(check({ channels: 'ftp://host/ch' }).channels).toContain(
      'unsupported scheme'
    );
    expect(check({ channels: 'https://' }).channels).toContain('incomplete');
    expect(check({ channels: '-c' }).channels).toBe(
      "'-c' is not a valid channel; use a channel name such as 'conda-forge', 'bioconda' or 'conda-forge/label/dev', or an http://, https:// or file:// URL."
    );
    expect(check({ channels: 'bad!name' }).channels).toBeDefined();
  });

  it('requires an available engine', () => {
    expect(check({ engine: 'conda' }).engine).toBe(
      "The conda engine is not available on this site: conda executable 'conda' not found on PATH"
    );
    expect(check({ engine: 'venv' }).engine).toBeUndefined();
    // Without site information there is nothing to check against.
    expect(check({ engine: 'conda' }, { site: null }).engine).toBeUndefined();
  });

  it('checks the spec file', () => {
    expect(
      check({ spec: { filename: 'environment.yml', content: 'name: x\n' } })
    ).toEqual({});
    expect(
      check({ spec: { filename: 'environment.yml', content: ' \n' } }).spec
    ).toBe('environment.yml is empty.');
    expect(
      check({
        spec: {
          filename: 'big.txt',
          content: 'a'.repeat(1024 * 1024 + 1)
        }
      }).spec
    ).toContain('larger than the limit of 1048576 bytes');
  });

  it('limits the kernel display name', () => {
    expect(check({ displayName: 'x'.repeat(201) })['kernel.display_name']).toBe(
      'The display name has 201 characters; use at most 200.'
    );
    expect(
      check({ displayName: 'x'.repeat(200) })['kernel.display_name']
    ).toBeUndefined();
    // Not checked when no kernel is made.
    expect(
      check({ kernel: false, displayName: 'x'.repeat(201) })[
        'kernel.display_name'
      ]
    ).toBeUndefined();
  });

  it('requires a format when module files are made', () => {
    expect(check({ modules: true, formats: [] })['module.formats']).toBe(
      'Choose at least one module file format.'
    );
    expect(
      check({ modules: false, formats: [] })['module.formats']
    ).toBeUndefined();
    expect(
      check({ modules: true, formats: ['tcl', 'sh'] })['module.formats']
    ).toBeUndefined();
  });

  it('checks module dependencies with the rule of the server', () => {
    expect(check({ dependencies: ['gcc/12.2.0', 'openmpi/4.1.5'] })).toEqual(
      {}
    );
    expect(check({ dependencies: ['gcc 12'] })['module.dependencies']).toBe(
      "'gcc 12' is not a module name; give names as 'module list' shows them, e.g. 'gcc/12.2.0' (letters, digits and . _ + - / : @ % =)."
    );
    expect(
      check({ dependencies: ['gcc/'] })['module.dependencies']
    ).toBeDefined();
    expect(
      check({ dependencies: ['a/../b'] })['module.dependencies']
    ).toBeDefined();
  });

  it('uses the translation bundle', () => {
    const trans = {
      __: (text: string) => `T:${text}`
    } as unknown as IValidationContext['trans'];
    expect(check({ name: '' }, { trans }).name).toBe(
      'T:Give the environment a name.'
    );
  });
});

describe('buildCreateRequest', () => {
  it('names an environment of the default root', () => {
    expect(buildCreateRequest(makeForm(), site)).toEqual({
      name: 'analysis',
      engine: 'rattler',
      kernel: { create: true },
      module: { create: false }
    });
    expect(
      buildCreateRequest(makeForm({ location: '/home/alice/envs/' }), site).name
    ).toBe('analysis');
    expect(buildCreateRequest(makeForm(), null).name).toBe('analysis');
  });

  it('gives the path of an environment in another root', () => {
    const request = buildCreateRequest(
      makeForm({ location: '/shared/envs' }),
      site
    );
    expect(request.path).toBe('/shared/envs/analysis');
    expect(request.name).toBeUndefined();
    expect(targetPath(makeForm({ location: '/shared/envs' }), site)).toBe(
      '/shared/envs/analysis'
    );
    expect(targetPath(makeForm(), site)).toBe('/home/alice/envs/analysis');
  });

  it('gives a custom path as typed', () => {
    const request = buildCreateRequest(
      makeForm({
        location: CUSTOM_PATH,
        customPath: ' ~/proj/env ',
        name: 'ignored'
      }),
      site
    );
    expect(request.path).toBe('~/proj/env');
    expect(request.name).toBeUndefined();
  });

  it('sends the lists and leaves out what is empty', () => {
    const request = buildCreateRequest(
      makeForm({
        python: ' 3.11 ',
        packages: 'numpy >=1.26,<2\nscipy',
        pipPackages: 'requests>=2.31',
        channels: 'conda-forge, bioconda'
      }),
      site
    );
    expect(request.python).toBe('3.11');
    expect(request.packages).toEqual(['numpy >=1.26,<2', 'scipy']);
    expect(request.pip_packages).toEqual(['requests>=2.31']);
    expect(request.channels).toEqual(['conda-forge', 'bioconda']);

    const empty = buildCreateRequest(
      makeForm({ packages: ' \n', pipPackages: '', channels: '' }),
      site
    );
    expect(empty).not.toHaveProperty('python');
    expect(empty).not.toHaveProperty('packages');
    expect(empty).not.toHaveProperty('pip_packages');
    expect(empty).not.toHaveProperty('channels');
    expect(empty).not.toHaveProperty('spec');
  });

  it('sends the spec with its file name', () => {
    const request = buildCreateRequest(
      makeForm({
        spec: { filename: 'environment.yml', content: 'dependencies: [numpy]' }
      }),
      site
    );
    expect(request.spec).toEqual({
      filename: 'environment.yml',
      content: 'dependencies: [numpy]'
    });
  });

  it('sends the kernel and module options and the dependencies', () => {
    expect(
      buildCreateRequest(
        makeForm({
          kernel: true,
          displayName: ' My env ',
          modules: true,
          formats: ['sh', 'lua'],
          dependencies: ['gcc/12.2.0', 'gcc/12.2.0', 'openmpi/4.1.5']
        }),
        site
      )
    ).toMatchObject({
      kernel: { create: true, display_name: 'My env' },
      module: {
        create: true,
        formats: ['lua', 'sh'],
        dependencies: ['gcc/12.2.0', 'openmpi/4.1.5']
      }
    });
    // Dependencies go even without module files: the kernel loads them.
    const request = buildCreateRequest(
      makeForm({
        kernel: false,
        displayName: 'unused',
        modules: false,
        dependencies: ['gcc/12.2.0']
      }),
      site
    );
    expect(request.kernel).toEqual({ create: false });
    expect(request.module).toEqual({
      create: false,
      dependencies: ['gcc/12.2.0']
    });
  });
});

describe('fieldOfError', () => {
  it('maps the fields the server names to the form', () => {
    const form = makeForm();
    expect(fieldOfError({ field: 'python' }, form)).toBe('python');
    expect(fieldOfError({ field: 'packages[2]' }, form)).toBe('packages');
    expect(fieldOfError({ field: 'module_deps' }, form)).toBe(
      'module.dependencies'
    );
    expect(fieldOfError({ field: 'module.dependencies' }, form)).toBe(
      'module.dependencies'
    );
    expect(fieldOfError({ field: 'formats' }, form)).toBe('module.formats');
    expect(fieldOfError({ field: 'display_name' }, form)).toBe(
      'kernel.display_name'
    );
    expect(fieldOfError({ file: 'environment.yml', line: 3 }, form)).toBe(
      'spec'
    );
    expect(fieldOfError({ field: 'path' }, form)).toBe('name');
    expect(
      fieldOfError(
        { field: 'path' },
        makeForm({ location: CUSTOM_PATH, customPath: '/x' })
      )
    ).toBe('path');
    expect(fieldOfError({}, form)).toBeNull();
    expect(fieldOfError({ field: 'body' }, form)).toBeNull();
  });
});

describe('specName', () => {
  it('reads the name of an environment.yml', () => {
    expect(specName('name: analysis\ndependencies: [numpy]\n')).toBe(
      'analysis'
    );
    expect(specName("channels: []\nname: 'quoted'  # comment\n")).toBe(
      'quoted'
    );
    expect(specName('dependencies:\n  - name: x\n')).toBeNull();
    expect(specName('name: .bad\n')).toBeNull();
  });
});
