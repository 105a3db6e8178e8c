import { screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { ExpertRun } from '../lib/queryState';
import { answer } from '../test/fixtures';
import { renderPage } from '../test/render';
import { ProgressList } from './ProgressList';

const runs: ExpertRun[] = [
  {
    id: 'ai_architect',
    name: 'Архитектор ИИ',
    status: 'failed',
    phase: 'map',
    phases: ['map'],
    facts: {},
    error: 'the model API refused the request',
    errorCode: 'model_refused',
  },
  {
    id: 'product_notes',
    name: 'Product Notes',
    status: 'running',
    phase: 'medium_scoring',
    phases: ['map', 'medium_scoring'],
    facts: { high: 1, medium: 2, analyzed: 35 },
  },
  {
    id: 'selfhost_ops',
    name: 'Самохост и эксплуатация',
    status: 'done',
    phase: 'assembly',
    phases: ['map', 'medium_scoring', 'resolve', 'reduce', 'language_validation', 'comment_groups', 'comment_synthesis', 'assembly'],
    facts: { high: 7, medium: 8, analyzed: 36, cited: 4, groups: 6, synthesis: true },
    response: answer,
  },
];

function row(name: string): HTMLElement {
  return screen.getByText(name).closest('li')!;
}

describe('ProgressList', () => {
  it('shows the phase each expert is in and what it found so far', () => {
    renderPage(<ProgressList experts={runs} />);
    const working = row('Product Notes');
    expect(working).toHaveAttribute('data-status', 'running');
    expect(within(working).getByText('Working')).toBeInTheDocument();
    expect(working).toHaveTextContent('Scoring related posts (step 2 of 8)');
    expect(working).toHaveTextContent('1 relevant, 2 partly, of 35 posts');
  });

  it('marks a failed expert clearly, with its reason, while the others go on', () => {
    renderPage(<ProgressList experts={runs} />);
    const failed = row('Архитектор ИИ');
    expect(failed).toHaveAttribute('data-status', 'failed');
    expect(within(failed).getByText('Failed')).toBeInTheDocument();
    expect(failed).toHaveTextContent('Failed at “Selecting posts”');
    expect(failed).toHaveTextContent('The language model refused the request.');
    expect(failed).not.toHaveTextContent('model API');
    const done = row('Самохост и эксплуатация');
    expect(within(done).getByText('Answered')).toBeInTheDocument();
    expect(done).toHaveTextContent('Answered in 3.1 s');
    expect(done).toHaveTextContent('4 posts cited');
    expect(done).toHaveTextContent('6 comment groups');
  });

  it('speaks Russian when the question does', () => {
    renderPage(<ProgressList experts={runs} />, { lang: 'ru' });
    expect(row('Архитектор ИИ')).toHaveTextContent('Ошибка');
    expect(row('Product Notes')).toHaveTextContent('Оценка близких постов (этап 2 из 8)');
    expect(row('Product Notes')).toHaveTextContent('по теме: 1, отчасти: 2, из 35 постов');
  });
});
